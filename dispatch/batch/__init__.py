"""Batch runs: many sites x price histories x periods, rolled day by day, resumable.

``tasks`` (plain data, no solver import), ``rolling`` (one site through a period, state carried),
``runner`` (tasks on an executor, outputs and manifest), ``summary`` (per task and year).
Operator mode's day lives in :mod:`dispatch.realtime`. Import the submodules you need; this
package module imports nothing heavy.
"""
