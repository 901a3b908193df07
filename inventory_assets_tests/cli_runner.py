"""Running the project's `dagster` CLI commands as a user would, in subprocesses."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from inventory_assets_tests.support import DAILY_USE, ROOT, TEST_API_KEY, doc_export

BIN = Path(sys.executable).parent
DAGSTER = str(BIN / "dagster")
INVENTORY_DATA = "inventory/inventory_data"
STOP_TIMEOUT_SECONDS = 30
# No telemetry from tests (as `make home`); queued runs start within a second instead of five.
INSTANCE_YAML = """\
telemetry:
  enabled: false
run_queue:
  dequeue_interval_seconds: 1
"""


def write_instance_config(dagster_home: Path) -> None:
    """The instance's dagster.yaml; write it before anything opens the instance."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(INSTANCE_YAML)


def cli_env(base_url: str, duckdb_path: Path, dagster_home: Path) -> dict[str, str]:
    """The environment docs/daily-use.md tells users to set, pointed at test locations.

    DAGSTER_HOME gets the dagster.yaml `make home` writes (telemetry off). The
    instance's tables are created up front: two CLI processes starting on a
    brand-new DAGSTER_HOME race to create them (Dagster's start-up, not ours).
    """
    if not (dagster_home / "dagster.yaml").exists():
        write_instance_config(dagster_home)
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))):
        pass
    return {
        **os.environ,
        "PYTHONWARNINGS": doc_export(DAILY_USE, "PYTHONWARNINGS"),
        "INVENTORY_API_BASE_URL": base_url,
        "INVENTORY_API_KEY": TEST_API_KEY,
        "INVENTORY_DUCKDB_PATH": str(duckdb_path),
        "DAGSTER_HOME": str(dagster_home),
        "INVENTORY_DLT_WORKING_DIR": str(dagster_home.parent / "dlt_pipelines"),
    }


def dagster(
    env: dict[str, str],
    *args: str,
    output: IO[str] | int = subprocess.PIPE,
    cwd: Path = ROOT,
) -> subprocess.Popen:
    """`dagster ARGS` from the project root (or `cwd`), in its own process group (to kill
    it whole).

    Output goes to a pipe for commands that finish; a long-running one (`dagster
    dev`) writes to a file instead, so an unread pipe can never block it.
    """
    return subprocess.Popen(
        [DAGSTER, *args],
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def service(env: dict[str, str], log: Path, program: str, *args: str) -> subprocess.Popen:
    """A long-running console script of this environment (daemon, worker) logging to a file.

    Not to a pipe: nobody reads it while the service runs, and a full pipe would
    block it. Its own process group, so `stop` ends what it started too.
    """
    with log.open("w") as output:
        return subprocess.Popen(
            [str(BIN / program), *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, and SIGKILL to whatever is left of it after a while."""
    group = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait(timeout=STOP_TIMEOUT_SECONDS)


def materialize_args(*partition_args: str, select: str = INVENTORY_DATA) -> tuple[str, ...]:
    """The arguments of the `dagster asset materialize` commands of docs/daily-use.md."""
    return (
        *("asset", "materialize", "-m", "inventory_assets.definitions", "--select", select),
        *partition_args,
    )


def materialize(
    env: dict[str, str], *partition_args: str, select: str = INVENTORY_DATA, cwd: Path = ROOT
) -> subprocess.Popen:
    return dagster(env, *materialize_args(*partition_args, select=select), cwd=cwd)


def finish(process: subprocess.Popen) -> str:
    """Wait for a command; it must succeed, print no warning and not the key."""
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 0, output[-3000:]
    assert TEST_API_KEY not in output
    assert not warnings_in(output), warnings_in(output)
    return output


def warnings_in(output: str) -> list[str]:
    """Python warnings (`...Warning: ...`) and Dagster's first-run notices in CLI output."""
    notices = ("Warning: ", "No dagster instance configuration file", "Telemetry")
    return [line for line in output.splitlines() if any(notice in line for notice in notices)]
