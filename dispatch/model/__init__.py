"""One builder per asset type, plus the balance, reserves and objective that sum them."""
