"""A stopped batch leaves no worker behind: SIGTERM and SIGKILL run no clean-up in the parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

POOL_SCRIPT = """
import os, sys, time
from dispatch.batch.runner import process_pool

pool = process_pool(1)
print(pool.submit(os.getpid).result(), flush=True)
pool.submit(time.sleep, 120)
time.sleep(120)
"""


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped is not)."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State"))
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "zombie" not in state


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_worker_exits_when_its_batch_process_is_stopped(stop: signal.Signals):
    command = [sys.executable, "-c", POOL_SCRIPT]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as parent:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        try:
            assert running(worker)
            os.kill(parent.pid, stop)
            parent.wait(timeout=10)
            deadline = time.monotonic() + 10
            while running(worker) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not running(worker), "the worker kept running after its parent was stopped"
        finally:
            parent.kill()
            if running(worker):
                os.kill(worker, signal.SIGKILL)
