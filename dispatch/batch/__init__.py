"""Batch runs: many sites x price histories x periods, rolled day by day, resumable.

``tasks`` (plain data, no solver import), ``rolling`` (one site through a period, state carried),
``forecast`` (schedule day-ahead, settle real-time), ``runner`` (tasks on an executor, outputs and
manifest), ``summary`` (per task and year). Import the submodules you need; this package module
imports nothing heavy.
"""
