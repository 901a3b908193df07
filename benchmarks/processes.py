"""Running one measured process through benchmarks/launch.py, with a timeout.

Output goes to files, not pipes, so a chatty child can never block on a full
pipe. The process runs in its own session, so a timeout kills the launcher and
the measured process together, by the group this harness started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from benchmarks.launch import PROCESS_PREFIX


@dataclass(frozen=True)
class ProcessOutcome:
    """How one measured process ended, as its launcher saw it."""

    returncode: int
    wall_s: float  # the measured process from spawn to exit (launcher start-up excluded)
    tree_peak_rss_kb: int  # largest process of the measured tree (RUSAGE_CHILDREN)
    stdout: str
    stderr: str
    timed_out: bool

    def tail(self, chars: int = 4000) -> str:
        """The end of the process's output, for error messages."""
        return (self.stdout + "\n" + self.stderr)[-chars:]


def run_measured(
    argv: list[str], *, env: dict[str, str], cwd: Path, timeout_s: float
) -> ProcessOutcome:
    """Run `argv` under the launcher; kill the whole group after `timeout_s`."""
    launcher = [sys.executable, "-m", "benchmarks.launch", json.dumps(argv)]
    returncode, stdout, stderr, timed_out = run_process(
        launcher, env=env, cwd=cwd, timeout_s=timeout_s
    )
    report = _launcher_report(stdout)
    return ProcessOutcome(
        returncode=returncode,
        wall_s=float(report.get("wall_s", 0.0)),
        tree_peak_rss_kb=int(report.get("tree_peak_rss_kb", 0)),
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
    )


def run_process(
    argv: list[str], *, env: dict[str, str], cwd: Path, timeout_s: float
) -> tuple[int, str, str, bool]:
    """(exit code, stdout, stderr, timed out) of `argv`, run in its own session."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        expired = threading.Event()
        timer = threading.Timer(timeout_s, _kill_group, (process.pid, expired))
        timer.start()
        try:
            returncode = process.wait()
        finally:
            timer.cancel()
        return returncode, _read(out), _read(err), expired.is_set()


def _launcher_report(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith(PROCESS_PREFIX)]
    return json.loads(lines[-1][len(PROCESS_PREFIX) :]) if lines else {}


def _kill_group(pid: int, expired: threading.Event) -> None:
    """Kill the process group this harness started for one measurement (by its id)."""
    expired.set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode(errors="replace")
