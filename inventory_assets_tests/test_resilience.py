"""Killed and concurrent runs through the CLI: all or nothing, then exactly right."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from inventory_api_sim import InventoryApiSimulator
from inventory_assets_tests.cli_runner import cli_env, finish, materialize
from inventory_assets_tests.conftest import (
    assert_key_in_no_file,
    day_window,
    expected_records,
    make_resources,
    make_simulator,
    materialize_partition,
    warehouse_rows,
)

pytestmark = pytest.mark.e2e

DAY = "2026-11-02"


@pytest.fixture
def busy_day() -> Iterator[InventoryApiSimulator]:
    """About 8,000 records on DAY with a little latency: a run of a few seconds."""
    sim = make_simulator(rows=16000, days=2, start=datetime(2026, 11, 1).date(), latency_ms=3)
    try:
        yield sim
    finally:
        sim.stop()


def _state(duckdb_path: Path) -> list[tuple]:
    return warehouse_rows(duckdb_path, "id, quantity, updated_at")


def _served(sim: InventoryApiSimulator) -> list[tuple]:
    return [
        (r["id"], r["quantity"], datetime.fromisoformat(r["updated_at"].replace("Z", "+00:00")))
        for r in expected_records(sim, *day_window(DAY))
    ]


def _diagnose(duckdb_path: Path) -> str:
    """Files and tables of the warehouse, for a failure message."""
    files = {path.name: path.stat().st_size for path in duckdb_path.parent.iterdir()}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name, estimated_size from duckdb_tables()"
        ).fetchall()
    return f"files {files}; tables {tables}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_run_killed_at_a_random_moment_leaves_all_or_nothing_and_a_rerun_completes(
    busy_day, duckdb_path: Path, tmp_path: Path, instance, seed: int
) -> None:
    materialize_partition(make_resources(busy_day.url, duckdb_path, tmp_path), DAY, instance)
    before = _state(duckdb_path)
    ids = [record["id"] for record in expected_records(busy_day, *day_window(DAY))]
    busy_day.touch(ids[:500], datetime(2026, 11, 2, 23, 30, tzinfo=UTC), quantity=4242)
    after = _served(busy_day)
    env = cli_env(busy_day.url, duckdb_path, tmp_path / "dagster_home")

    process = materialize(env, "--partition", DAY)
    time.sleep(random.Random(seed).uniform(1.0, 6.0))
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)

    killed = _state(duckdb_path)
    assert killed in (before, after), (
        f"a killed run must not leave half a load: {len(killed)} rows, "
        f"{sum(1 for row in killed if row[1] == 4242)} changed; {_diagnose(duckdb_path)}"
    )
    finish(materialize(env, "--partition", DAY))
    assert _state(duckdb_path) == after
    assert_key_in_no_file(tmp_path)


def test_four_partitions_at_once_against_a_flaky_api_land_exactly(
    duckdb_path: Path, tmp_path: Path
) -> None:
    days = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    sim = make_simulator(rows=4000, days=4, fault_rate=0.15, retry_after_seconds=0)
    try:
        env = cli_env(sim.url, duckdb_path, tmp_path / "dagster_home")
        outputs = [finish(p) for p in [materialize(env, "--partition", day) for day in days]]
        expected = sorted(r["id"] for day in days for r in expected_records(sim, *day_window(day)))
    finally:
        sim.stop()

    assert [row[0] for row in warehouse_rows(duckdb_path, "id")] == expected
    assert not any("lock" in output.lower() and "error" in output.lower() for output in outputs)
