"""The operator's day: two-settlement stages and a real-time loop that never sees the future.

:mod:`~dispatch.realtime.information` says what is known when; :mod:`~dispatch.realtime.stages`
runs the day-ahead stage, the real-time loop and the settlement on one model per day shape;
:mod:`~dispatch.realtime.backtest` rolls days and compares the operator with perfect foresight,
the day-ahead plan and the breakeven rule.
"""
