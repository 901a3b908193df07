"""`dagster dev` (webserver and daemon) for end-to-end tests, as users start it.

It runs on a free port against its own DAGSTER_HOME, in its own process group,
so a test can kill it whole, runs in flight included, whatever went wrong.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from inventory_assets_tests.cli_runner import dagster

T = TypeVar("T")

LOCATION_NAME = "inventory_assets"  # workspace.yaml's location_name
STARTUP_TIMEOUT_SECONDS = 120
STOP_GRACE_SECONDS = 5
POLL_SECONDS = 1.0
LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DagsterDev:
    """A running `dagster dev`: its URL, its log, and its instance for polling."""

    process: subprocess.Popen
    url: str
    log_path: Path
    instance: DagsterInstance

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def graphql(self, query: str) -> dict[str, Any]:
        response = requests.post(f"{self.url}/graphql", json={"query": query}, timeout=30)
        response.raise_for_status()
        return response.json()["data"]

    def wait_until(
        self, probe: Callable[[], T | None], timeout: float, failure: Callable[[], str]
    ) -> T:
        """Poll `probe` until it returns something; fail with `failure()` after `timeout` s.

        Fails at once, with the end of its log, if `dagster dev` itself has died.
        """
        deadline = time.monotonic() + timeout
        while (result := probe()) is None:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"dagster dev exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{failure()} (waited {timeout:.0f} s)")
            time.sleep(POLL_SECONDS)
        return result

    def location_loaded(self) -> bool | None:
        """True once the webserver serves the code location; an import error fails at once."""
        try:
            data = self.graphql(LOCATION_QUERY)
        except requests.RequestException:
            return None  # not listening yet
        entries = data["workspaceOrError"].get("locationEntries", [])
        entry = next((e for e in entries if e["name"] == LOCATION_NAME), None)
        if entry is None or entry["loadStatus"] != "LOADED":
            return None
        loaded = entry["locationOrLoadError"]
        assert loaded["__typename"] == "RepositoryLocation", f"location failed to load: {loaded}"
        return True


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(process.pid, sig)


def stop(process: subprocess.Popen) -> None:
    """Stop a process group: politely, then for sure.

    dagster dev's own shutdown can hang, and run workers it started may outlive it.
    """
    _signal_group(process, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_SECONDS)
    _signal_group(process, signal.SIGKILL)
    process.wait()


@contextmanager
def dagster_dev(env: dict[str, str], dagster_home: Path, log_path: Path) -> Iterator[DagsterDev]:
    """`dagster dev -w workspace.yaml` on a free port, ready to serve; stopped on exit.

    `env` must name `dagster_home` as DAGSTER_HOME, with `write_instance_config` done.
    """
    port = free_port()
    with log_path.open("w") as log:
        process = dagster(
            env, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port), output=log
        )
    try:
        with DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
            dev = DagsterDev(process, f"http://127.0.0.1:{port}", log_path, instance)
            dev.wait_until(
                dev.location_loaded,
                STARTUP_TIMEOUT_SECONDS,
                lambda: f"dagster dev did not serve the code location:\n{dev.log_tail()}",
            )
            yield dev
    finally:
        stop(process)
