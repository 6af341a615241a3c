"""Text that came from a user (a site, fleet or file name, a message quoting a file), made safe
to print: control characters are shown as escapes, never sent to the terminal."""

from __future__ import annotations

import re

# C0 controls but newline and tab, DEL, and C1 controls (a bare 0x9b starts an ANSI sequence too)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def literal(text: object) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``), so nothing a user typed
    can move the cursor, recolour the terminal or open a hyperlink. Newlines and tabs are
    kept."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", str(text))
