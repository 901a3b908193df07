"""Runs one measurement in a fresh process and turns it into a verified Sample.

Every measurement gets its own working directory (DuckDB file, dlt dirs,
DAGSTER_HOME) or PostgreSQL database, the counters of the in-harness simulator
are zeroed before it, and its rows are counted after it: a fast wrong answer is
a failure, not a result.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.child import RESULT_PREFIX
from benchmarks.processes import ProcessOutcome, run_measured, run_process
from benchmarks.results import Sample
from benchmarks.server import CountingSimulator
from benchmarks.settings import CHILD_TIMEOUT_SECONDS, PAGE_SIZE, PROJECT_ROOT
from benchmarks.warehouse import postgres_table_counts, table_counts, verify
from benchmarks.workloads import API_KEY_ENV, POSTGRES_URL_ENV, RECEIVING_WORKLOADS

DAGSTER_YAML = "telemetry:\n  enabled: false\n"
DAGSTER = str(Path(sys.executable).parent / "dagster")


class MeasurementError(RuntimeError):
    """A measured process failed or printed no result."""


@dataclass
class Runner:
    """Starts measured processes under `root`, one fresh directory each."""

    root: Path
    api_key: str
    _ids: itertools.count = field(default_factory=itertools.count)
    _home_template: Path | None = None

    # -- the three kinds of measurement ------------------------------------------------------

    def child(
        self,
        label: str,
        workload: str,
        simulator: CountingSimulator,
        spec: dict[str, Any],
        expected_rows: int,
        postgres_url: str | None = None,
        settings: dict[str, str] | None = None,
    ) -> Sample:
        """A workload of benchmarks/workloads.py in `python -m benchmarks.child`.

        With `postgres_url` the project loads into that database instead of the DuckDB
        file; the URL travels in the environment, like the API key, never in argv.
        `settings` are INVENTORY_* variables for the project (e.g. its sync mode).
        """
        workdir = self._fresh_dir(label)
        database = workdir / "data" / "warehouse.duckdb"
        database.parent.mkdir()
        full_spec = {
            **spec,
            "workload": workload,
            "url": simulator.url,
            "workdir": str(workdir),
            "duckdb_path": str(database),
            "page_size": PAGE_SIZE,
        }
        simulator.reset_counters()
        argv = [sys.executable, "-m", "benchmarks.child", json.dumps(full_spec)]
        env = self._env(workdir) | ({POSTGRES_URL_ENV: postgres_url} if postgres_url else {})
        env |= settings or {}
        outcome = self._run(label, argv, workdir, env)
        result = _result_line(label, outcome)
        rows = self._verified_rows(label, workload, result, expected_rows, database, postgres_url)
        return Sample(
            wall_s=result["wall_s"],
            process_s=outcome.wall_s,
            rows=rows,
            peak_rss_mb=result["peak_rss_kb"] / 1024,
            requests=simulator.request_count,
            max_in_flight=_in_flight(simulator),
            details=_details(result, outcome),
        )

    def cli(
        self, label: str, simulator: CountingSimulator, partition_args: list[str], expected: int
    ) -> Sample:
        """`dagster asset materialize` of inventory/inventory_data, timed as a whole process."""
        workdir = self._fresh_dir(label)
        database = workdir / "data" / "warehouse.duckdb"
        database.parent.mkdir()
        env = self._env(workdir) | {
            "INVENTORY_API_BASE_URL": simulator.url,
            "INVENTORY_DUCKDB_PATH": str(database),
            "INVENTORY_DLT_WORKING_DIR": str(workdir / "dlt"),
        }
        argv = [DAGSTER, "asset", "materialize", "-m", "inventory_assets.definitions"]
        argv += ["--select", "inventory/inventory_data", *partition_args]
        simulator.reset_counters()
        outcome = self._run(label, argv, workdir, env)
        rows, distinct = table_counts(database)
        verify(label, expected, rows, distinct)
        return Sample(
            wall_s=outcome.wall_s,
            process_s=outcome.wall_s,
            rows=rows,
            peak_rss_mb=outcome.tree_peak_rss_kb / 1024,
            requests=simulator.request_count,
            max_in_flight=_in_flight(simulator),
            details={"peak_rss_source": "RUSAGE_CHILDREN of the launcher (process tree)"},
        )

    def command(self, label: str, python_code: str) -> Sample:
        """`python -c CODE`, timed as a whole process (import costs)."""
        workdir = self._fresh_dir(label)
        outcome = self._run(label, [sys.executable, "-c", python_code], workdir)
        return Sample(
            wall_s=outcome.wall_s,
            process_s=outcome.wall_s,
            rows=0,
            peak_rss_mb=outcome.tree_peak_rss_kb / 1024,
            requests=None,
            max_in_flight=None,
        )

    def probe(self) -> dict[str, Any]:
        """What the project's code offers right now (e.g. whether max_concurrency exists)."""
        workdir = self._fresh_dir("probe")
        argv = [sys.executable, "-m", "benchmarks.child", json.dumps({"workload": "probe"})]
        code, stdout, stderr, _ = run_process(
            argv, env=self._env(workdir), cwd=PROJECT_ROOT, timeout_s=300
        )
        if code != 0:
            raise MeasurementError(f"probing the project failed:\n{(stdout + stderr)[-4000:]}")
        return _result_line("probe", ProcessOutcome(code, 0.0, 0, stdout, stderr, False))

    # -- plumbing ----------------------------------------------------------------------------

    def _run(
        self, label: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None
    ) -> ProcessOutcome:
        outcome = run_measured(
            argv, env=env or self._env(workdir), cwd=PROJECT_ROOT, timeout_s=CHILD_TIMEOUT_SECONDS
        )
        # Kept with the measurement's files, for `--keep-workdir` and failed runs.
        (workdir / "stdout.log").write_text(outcome.stdout)
        (workdir / "stderr.log").write_text(outcome.stderr)
        if outcome.returncode != 0 or outcome.timed_out:
            why = "timed out" if outcome.timed_out else f"exited with {outcome.returncode}"
            raise MeasurementError(f"{label}: the measured process {why}:\n{outcome.tail()}")
        return outcome

    def _env(self, workdir: Path) -> dict[str, str]:
        """The user's environment minus INVENTORY_* settings, plus private dirs and the key."""
        return _without_settings(os.environ) | {
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DLT_DATA_DIR": str(workdir / "dlt_data"),
            "DAGSTER_HOME": str(self._dagster_home(workdir)),
            API_KEY_ENV: self.api_key,
        }

    def _dagster_home(self, workdir: Path) -> Path:
        """A fresh DAGSTER_HOME whose storage already exists, like a user's instance."""
        home = workdir / "dagster_home"
        if not home.exists():
            shutil.copytree(self._initialized_home(), home)
        return home

    def _initialized_home(self) -> Path:
        """Created once: telemetry off, and the instance's tables built, outside any timing."""
        if self._home_template is None:
            template = self.root / "dagster_home_template"
            template.mkdir(parents=True)
            (template / "dagster.yaml").write_text(DAGSTER_YAML)
            init = (
                "import sys; from dagster import DagsterInstance;"
                " from dagster._core.instance.ref import InstanceRef;"
                " DagsterInstance.from_ref(InstanceRef.from_dir(sys.argv[1])).dispose()"
            )
            env = _without_settings(os.environ) | {"DAGSTER_HOME": str(template)}
            argv = [sys.executable, "-c", init, str(template)]
            code, _, stderr, _ = run_process(argv, env=env, cwd=PROJECT_ROOT, timeout_s=300)
            if code != 0:
                raise MeasurementError(f"initializing DAGSTER_HOME failed:\n{stderr[-4000:]}")
            self._home_template = template
        return self._home_template

    def _fresh_dir(self, label: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
        path = self.root / f"{next(self._ids):03d}-{safe}"
        path.mkdir(parents=True)
        return path

    @staticmethod
    def _verified_rows(
        label: str,
        workload: str,
        result: dict[str, Any],
        expected: int,
        database: Path,
        postgres_url: str | None,
    ) -> int:
        """The records a receiving workload got, else the rows counted where the run loaded."""
        if workload in RECEIVING_WORKLOADS:
            verify(label, expected, int(result["rows"]))
            return int(result["rows"])
        if postgres_url:
            rows, distinct = postgres_table_counts(postgres_url)
        else:
            rows, distinct = table_counts(database)
        verify(label, expected, rows, distinct)
        return rows


def _without_settings(environment: Mapping[str, str]) -> dict[str, str]:
    """`environment` minus the project's INVENTORY_* settings: each run sets its own."""
    return {k: v for k, v in environment.items() if not k.startswith("INVENTORY_")}


def _in_flight(simulator: CountingSimulator) -> int | None:
    """The server's in-flight peak; None (n/a) if requests came but the gauge saw none."""
    peak = simulator.in_flight.peak
    return None if peak == 0 and simulator.request_count > 0 else peak


def _result_line(label: str, outcome: ProcessOutcome) -> dict[str, Any]:
    lines = [line for line in outcome.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise MeasurementError(
            f"{label}: the measured process printed no result:\n{outcome.tail()}"
        )
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def _details(result: dict[str, Any], outcome: ProcessOutcome) -> dict[str, Any]:
    """What the child reported besides time and memory (asset metadata, tree RSS)."""
    skip = {"wall_s", "peak_rss_kb", "rows"}
    details = {k: v for k, v in result.items() if k not in skip | {"vm_hwm_kb"}}
    if result.get("vm_hwm_kb"):
        details["vm_hwm_mb"] = result["vm_hwm_kb"] / 1024
    details["tree_peak_rss_mb"] = outcome.tree_peak_rss_kb / 1024
    return details
