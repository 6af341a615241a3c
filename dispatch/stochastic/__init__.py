"""Day-ahead decisions under real-time price uncertainty (issue 14).

:mod:`~dispatch.stochastic.scenarios` builds price scenarios from history before a day;
:mod:`~dispatch.stochastic.history` loads that history or reads a user's scenario file;
:mod:`~dispatch.stochastic.model` is the two-stage extensive form (one dispatch block per
scenario); :mod:`~dispatch.stochastic.plan` solves it and reads its tables;
:mod:`~dispatch.stochastic.backtest` and :mod:`~dispatch.stochastic.summary` put it in the
operator back-test; :mod:`~dispatch.stochastic.api` is the one-day entry point.
"""
