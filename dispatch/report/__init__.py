"""Self-contained interactive HTML reports: one page per command (`run`, `batch`, `size`).

Charts are plotly figures (the ``[report]`` extra), the plotly.js library inlined in the page:
a report opens from disk, offline, with zoom and hover. Imported only when a report is asked for.
"""

from dispatch.report.batch import write_batch_report
from dispatch.report.run import write_run_report
from dispatch.report.size import write_size_report

__all__ = ["write_batch_report", "write_run_report", "write_size_report"]
