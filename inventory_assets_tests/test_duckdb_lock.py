"""The DuckDB file is single-writer: a load or a check waits while another process holds it.

A notebook or the duckdb CLI with the file open holds DuckDB's own lock on it
(even read-only). A run waits for it, bounded, saying who holds it, and then
fails with one line naming the file, the holder and what to do.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from inventory_assets.warehouse.duckdb_file import DuckDBDestinationResource
from inventory_assets_tests.conftest import (
    CONTRACT_COLUMNS,
    as_warehouse_row,
    day_window,
    expected_records,
    make_resources,
    materialize_partition,
    step_failure_message,
    warehouse_rows,
)

DAY = "2026-11-02"
HOLDER = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def hold(duckdb_path: Path) -> Iterator[Callable[[float], subprocess.Popen]]:
    """Another process with the file open read-only for some seconds, as a notebook would."""
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(duckdb_path)).close()
    started: list[subprocess.Popen] = []

    def start(seconds: float) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(duckdb_path), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout and process.stdout.readline().strip() == "holding"
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


def _resources(
    simulator, duckdb_path: Path, tmp_path: Path, timeout: float, replica: Path | None = None
) -> dict:
    resources = make_resources(simulator.url, duckdb_path, tmp_path)
    resources["inventory_destination"] = DuckDBDestinationResource(
        path=str(duckdb_path),
        lock_timeout_seconds=timeout,
        replica_path=str(replica) if replica else None,
    )
    return resources


def test_a_load_waits_for_a_file_another_process_holds_and_lands_exactly(
    simulator, duckdb_path: Path, tmp_path: Path, instance: DagsterInstance, hold, caplog
) -> None:
    holder = hold(8)

    result = materialize_partition(_resources(simulator, duckdb_path, tmp_path, 180), DAY, instance)

    assert result.success
    expected = [as_warehouse_row(r) for r in expected_records(simulator, *day_window(DAY))]
    assert warehouse_rows(duckdb_path, CONTRACT_COLUMNS) == expected
    assert f"held by PID {holder.pid}" in caplog.text, "the wait says who holds the file"


def test_past_the_timeout_the_load_fails_in_one_line_naming_file_and_holder(
    simulator, duckdb_path: Path, tmp_path: Path, instance: DagsterInstance, hold
) -> None:
    holder = hold(60)

    result = materialize_partition(
        _resources(simulator, duckdb_path, tmp_path, 2), DAY, instance, raise_on_error=False
    )

    message = step_failure_message(result).strip()
    assert "\n" not in message
    assert f"The DuckDB file {duckdb_path.resolve()} is held by another process" in message
    assert f"PID {holder.pid}" in message and "INVENTORY_DUCKDB_LOCK_TIMEOUT_SECONDS" in message


def test_a_reader_waits_too(duckdb_path: Path, hold) -> None:
    hold(3)
    destination = DuckDBDestinationResource(path=str(duckdb_path), lock_timeout_seconds=60)

    with destination.connect() as con:
        assert con.fetchone("select 42") == (42,)


def test_readers_of_the_replica_never_block_a_load(
    simulator, duckdb_path: Path, tmp_path: Path, instance: DagsterInstance, hold
) -> None:
    """INVENTORY_DUCKDB_REPLICA_PATH: a copy replaced after each write, for querying
    while loads run; an open reader keeps its copy, the next one sees the new load."""
    replica = tmp_path / "replica" / "warehouse.duckdb"
    resources = _resources(simulator, duckdb_path, tmp_path, timeout=2, replica=replica)
    assert materialize_partition(resources, DAY, instance).success
    first = [as_warehouse_row(r) for r in expected_records(simulator, *day_window(DAY))]
    assert warehouse_rows(replica, CONTRACT_COLUMNS) == first

    reader = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(replica), "60"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout and reader.stdout.readline().strip() == "holding"
        assert materialize_partition(resources, "2026-11-03", instance).success, "not blocked"
    finally:
        reader.kill()
        reader.wait()
    second = expected_records(simulator, *day_window("2026-11-03"))
    both = sorted(first + [as_warehouse_row(r) for r in second])
    with duckdb.connect(str(replica), read_only=True) as con:
        rows = con.execute(f"select {CONTRACT_COLUMNS} from inventory.inventory_data order by id")
        assert rows.fetchall() == both
