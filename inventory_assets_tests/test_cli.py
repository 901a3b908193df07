"""The CLI commands of docs/daily-use.md, as subprocesses against the simulator."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from inventory_assets_tests import cli_runner
from inventory_assets_tests.cli_runner import (
    dagster,
    finish,
    materialize,
    materialize_args,
)
from inventory_assets_tests.conftest import (
    assert_key_in_no_file,
    day_window,
    expected_records,
    warehouse_rows,
)
from inventory_assets_tests.support import DAILY_USE, doc_commands, doc_export

pytestmark = pytest.mark.e2e

# The examples of docs/daily-use.md; test_the_docs_show_the_commands_tested_here keeps them
# the same.
ONE_PARTITION = ("--partition", "2026-11-02")
RECONCILE = (
    *("job", "execute", "-m", "inventory_assets.definitions"),
    *(
        "-j",
        "inventory__inventory_data_reconcile_job",
        "--tags",
        '{"dagster/partition": "2026-11-02"}',
    ),
)
PREVIEW = (
    *("sensor", "preview", "inventory__inventory_data_change_sensor"),
    *("-m", "inventory_assets.definitions"),
)
RANGE = ("--partition-range", "2026-11-02...2026-11-04")
WITH_DOWNSTREAM = "inventory/inventory_data*"


@pytest.fixture
def cli_env(simulator, duckdb_path: Path, tmp_path: Path) -> dict[str, str]:
    return cli_runner.cli_env(simulator.url, duckdb_path, tmp_path / "dagster_home")


def _ids_for(simulator, *days: str) -> list[int]:
    return sorted(
        record["id"] for day in days for record in expected_records(simulator, *day_window(day))
    )


def test_one_partition_loads_exactly_that_day_and_reruns_add_nothing(
    simulator, cli_env: dict[str, str], duckdb_path: Path, tmp_path: Path
) -> None:
    output = finish(materialize(cli_env, *ONE_PARTITION))
    assert "RUN_SUCCESS" in output
    assert "Asset check 'rows_match_api' on 'inventory/inventory_data' passed" in output
    first = warehouse_rows(duckdb_path)
    assert [row[0] for row in first] == _ids_for(simulator, ONE_PARTITION[1])

    finish(materialize(cli_env, *ONE_PARTITION))

    assert [row[0] for row in warehouse_rows(duckdb_path)] == [row[0] for row in first]
    assert_key_in_no_file(tmp_path)


def test_a_vendor_change_shows_in_the_reconciliation_and_names_the_day_to_load(
    simulator, cli_env: dict[str, str]
) -> None:
    finish(materialize(cli_env, "--partition", "2026-11-02"))
    moved = _ids_for(simulator, "2026-11-02")[:2]
    simulator.touch(moved, datetime(2026, 11, 4, 8, tzinfo=UTC))

    reloaded = finish(materialize(cli_env, "--partition", "2026-11-02"))
    checked = finish(dagster(cli_env, *RECONCILE))

    for output in (reloaded, checked):
        assert "Asset check 'rows_match_api' on 'inventory/inventory_data' did not pass" in output
        assert "load partitions 2026-11-04" in output


def test_a_partition_range_loads_in_one_run(
    simulator, cli_env: dict[str, str], duckdb_path: Path
) -> None:
    output = finish(materialize(cli_env, *RANGE))

    assert output.count("RUN_START") == 1
    days = ("2026-11-02", "2026-11-03", "2026-11-04")
    assert [row[0] for row in warehouse_rows(duckdb_path, "id")] == _ids_for(simulator, *days)


def test_two_partitions_in_separate_processes_at_once_both_land(
    simulator, cli_env: dict[str, str], duckdb_path: Path
) -> None:
    days = ("2026-11-03", "2026-11-04")
    simulator.fail_next(503, times=2)
    processes = [materialize(cli_env, "--partition", day) for day in days]

    for process in processes:
        finish(process)

    assert [row[0] for row in warehouse_rows(duckdb_path, "id")] == _ids_for(simulator, *days)


def test_a_missing_key_says_which_variable_to_set(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if k != "INVENTORY_API_KEY"}

    process = materialize(env, "--partition", "2026-11-02")
    output, _ = process.communicate(timeout=180)

    assert process.returncode != 0
    assert "INVENTORY_API_KEY" in output


def test_downstream_and_checks_run_with_the_partition(
    simulator, cli_env: dict[str, str], duckdb_path: Path
) -> None:
    output = finish(materialize(cli_env, *ONE_PARTITION, select=WITH_DOWNSTREAM))

    for check in ("id_is_unique", "required_columns_not_null", "quantity_not_negative"):
        assert f"Asset check '{check}' on 'inventory/inventory_data' passed" in output
    assert "Materialized value inventory stock_levels" in output
    assert "Materialized value inventory low_stock_items" in output
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        (stock_rows,) = con.execute("select count(*) from inventory.stock_levels").fetchone()
    assert stock_rows > 0


def test_sensor_preview_lists_the_changed_partitions(simulator, cli_env: dict[str, str]) -> None:
    import requests

    newest = max(simulator.records, key=lambda record: (record["updated_at"], record["id"]))
    cursor = json.dumps({"since": newest["updated_at"], "seen_ids": [newest["id"]]})
    for day in ("2026-11-06", "2026-11-08"):
        requests.post(
            f"{simulator.url}/_control/touch", params={"count": 2, "day": day}, timeout=5
        ).raise_for_status()

    preview = dagster(cli_env, *PREVIEW, "--cursor", cursor)
    output = finish(preview)

    # One run per changed day; the CLI prints each request's run config, which names it.
    assert "Sensor returning run requests for 2 run(s)" in output, output
    for day in ("2026-11-06", "2026-11-08"):
        assert f"changed_day: {day}" in output, output
    assert output.count("changed_records: 2") == 2, output


def test_the_docs_show_the_commands_tested_here() -> None:
    tested = {
        ("dagster", *materialize_args(*ONE_PARTITION)),
        ("dagster", *materialize_args(*RANGE)),
        ("dagster", *materialize_args(*ONE_PARTITION, select=WITH_DOWNSTREAM)),
    }

    assert tested <= doc_commands(DAILY_USE, "dagster asset materialize")
    assert ("dagster", *RECONCILE) in doc_commands(DAILY_USE, "dagster job execute")
    # The preview's cursor is the page's example; the test's comes from the simulator.
    previews = {command[:-1] for command in doc_commands(DAILY_USE, "dagster sensor preview")}
    assert ("dagster", *PREVIEW, "--cursor") in previews


DG_LAUNCH = ("dg", "launch", "--assets", "inventory/inventory_data", "--partition", "2026-11-02")


def test_dg_launch_loads_the_partition_as_the_docs_show(
    simulator, cli_env: dict[str, str], duckdb_path: Path
) -> None:
    assert DG_LAUNCH in doc_commands(DAILY_USE, "dg launch")
    dg = str(Path(cli_runner.DAGSTER).with_name("dg"))
    env = {**cli_env, "VIRTUAL_ENV": str(cli_runner.ROOT / ".venv")}
    completed = subprocess.run(
        [dg, *DG_LAUNCH[1:]], cwd=cli_runner.ROOT, env=env, capture_output=True, text=True
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert not cli_runner.warnings_in(completed.stdout + completed.stderr)
    assert [row[0] for row in warehouse_rows(duckdb_path)] == _ids_for(simulator, "2026-11-02")


def test_make_and_the_docs_accept_the_same_dagster_warnings() -> None:
    """`make dev`/`make demo` and the exports of docs/daily-use.md filter exactly Dagster's
    supersession notices for `dagster dev`, `asset materialize` and `job execute`, nothing
    wider."""
    makefile = (cli_runner.ROOT / "Makefile").read_text()
    (made,) = [
        line.split("?=", 1)[1].strip()
        for line in makefile.splitlines()
        if line.startswith("PYTHONWARNINGS ?=")
    ]
    filters = doc_export(DAILY_USE, "PYTHONWARNINGS")

    assert made == filters
    assert all(
        entry.startswith("ignore:Function `") and entry.endswith("` is superseded")
        for entry in filters.split(",")
    )
