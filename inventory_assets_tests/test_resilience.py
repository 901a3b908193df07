"""Killed and concurrent runs through the CLI: all or nothing, then exactly right."""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from inventory_api_sim import InventoryApiSimulator
from inventory_assets_tests.cli_runner import INVENTORY_DATA, cli_env, finish, materialize
from inventory_assets_tests.conftest import (
    assert_key_in_no_file,
    day_window,
    expected_records,
    make_simulator,
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


def _diagnose(duckdb_path: Path) -> str:
    """Files and tables of the warehouse, for a failure message."""
    files = {path.name: path.stat().st_size for path in duckdb_path.parent.iterdir()}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables()"
        ).fetchall()
    return f"files {files}; tables {tables}"


# Kills per write path; `INVENTORY_KILL_LOOP=12 pytest -m e2e -k killed` for the long loop.
KILLS = int(os.environ.get("INVENTORY_KILL_LOOP", "2"))
WINDOW_KILLS = max(KILLS, 3)
State = Callable[[Path], list[tuple]]


def _rows(duckdb_path: Path) -> list[tuple]:
    """Each row of the window as the check compares it: key, value, time, flagged or not."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        columns = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'inventory' and table_name = 'inventory_data'"
            ).fetchall()
        }
        flagged = "_vendor_deleted_at is not null" if "_vendor_deleted_at" in columns else "false"
        return con.execute(
            f"select id, quantity, updated_at, {flagged} from inventory.inventory_data order by id"
        ).fetchall()


def _stock(duckdb_path: Path) -> list[tuple]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.execute(
            "select inventory_id, warehouse, total_quantity, records from inventory.stock_levels"
            " order by all"
        ).fetchall()


def _run(env: dict[str, str], args: tuple[str, ...]) -> float:
    """Run the command to its end (it must succeed); how long it took."""
    started = time.monotonic()
    finish(materialize(env, *args[1:], select=args[0]))
    return time.monotonic() - started


@dataclass
class WritePath:
    """One way the project writes to the warehouse, driven through the CLI."""

    env: dict[str, str]
    args: tuple[str, ...]  # --select and the partition arguments
    state: State
    files: tuple[Path, ...]  # what a restore puts back: the warehouse, its replica
    # A third state a kill may leave, documented, from the old and the new state: a
    # whole-listing load's merge applied, its flags or deletes (a later transaction) not.
    between: Callable[[list[tuple], list[tuple]], list[tuple]] | None = None

    def snapshot(self, suffix: str) -> None:
        for path in self.files:
            if path.exists():
                shutil.copyfile(path, path.with_name(path.name + suffix))

    def restore(self, suffix: str) -> None:
        for path in self.files:
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
            shutil.copyfile(path.with_name(path.name + suffix), path)


def _kill_loop(path: WritePath, change: Callable[[], None], kills: int) -> None:
    """Write, change the data upstream, snapshot the warehouse, and write again for the
    right result; then, `kills` times from the snapshot: SIGKILL the run at a random
    moment, find the warehouse as it was or as it should be (never between), and a
    re-run exact."""
    duration = _run(path.env, path.args)
    before = [path.state(file) for file in path.files]
    change()
    path.snapshot(".before")
    _run(path.env, path.args)
    after = [path.state(file) for file in path.files]
    assert after != before, "the change must show in the warehouse"
    rng = random.Random(len(path.args) * 7919 + kills)
    for _ in range(kills):
        path.restore(".before")
        process = materialize(path.env, *path.args[1:], select=path.args[0])
        time.sleep(rng.uniform(0.2, 1.1) * duration)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
        for file, old, new in zip(path.files, before, after, strict=True):
            killed = path.state(file)
            allowed = [old, new, *([path.between(old, new)] if path.between else [])]
            assert killed in allowed, (
                f"a killed run left {file.name} between states: {len(killed)} rows; "
                f"{_diagnose(path.files[0])}"
            )
        _run(path.env, path.args)
        assert [path.state(file) for file in path.files] == after


def _deletes_pending(old: list[tuple], new: list[tuple]) -> list[tuple]:
    """`new` as it is before its deletes or flags: the rows they remove or flag as in `old`."""
    new_by_id = {row[0]: row for row in new}
    merged = dict(new_by_id)
    for row in old:
        gone = row[0] not in new_by_id
        if gone or (new_by_id[row[0]][3] and not row[3]):
            merged[row[0]] = row
    return sorted(merged.values())


def _touch_and_delete(sim: InventoryApiSimulator) -> Callable[[], None]:
    def change() -> None:
        ids = [record["id"] for record in expected_records(sim, *day_window(DAY))]
        sim.touch(ids[:500], datetime(2026, 11, 2, 23, 30, tzinfo=UTC), quantity=4242)
        sim.delete(ids[-300:])

    return change


def test_a_window_load_killed_at_random_moments_is_all_or_nothing(
    busy_day, duckdb_path: Path, tmp_path: Path
) -> None:
    env = cli_env(busy_day.url, duckdb_path, tmp_path / "dagster_home")
    path = WritePath(env, (INVENTORY_DATA, "--partition", DAY), _rows, (duckdb_path,))
    _kill_loop(path, _touch_and_delete(busy_day), WINDOW_KILLS)
    assert_key_in_no_file(tmp_path)


@pytest.mark.parametrize(
    ("mode", "deletes"),
    [("client_window", "flag"), ("client_window", "delete"), ("full", "flag"), ("full", "delete")],
)
def test_a_whole_listing_load_killed_applies_its_deletes_whole_or_not_at_all(
    busy_day, duckdb_path: Path, tmp_path: Path, mode: str, deletes: str
) -> None:
    env = cli_env(busy_day.url, duckdb_path, tmp_path / "dagster_home")
    env |= {"INVENTORY_SYNC_MODE": mode, "INVENTORY_DELETES": deletes}
    partition = ("--partition", DAY) if mode == "client_window" else ()
    path = WritePath(
        env, (INVENTORY_DATA, *partition), _rows, (duckdb_path,), between=_deletes_pending
    )
    _kill_loop(path, _touch_and_delete(busy_day), KILLS)


def test_a_killed_load_leaves_the_replica_the_old_file_or_the_new(
    busy_day, duckdb_path: Path, tmp_path: Path
) -> None:
    replica = tmp_path / "replica" / "warehouse.duckdb"
    env = cli_env(busy_day.url, duckdb_path, tmp_path / "dagster_home")
    env["INVENTORY_DUCKDB_REPLICA_PATH"] = str(replica)
    path = WritePath(env, (INVENTORY_DATA, "--partition", DAY), _rows, (duckdb_path, replica))
    _kill_loop(path, _touch_and_delete(busy_day), KILLS)
    assert not list(replica.parent.glob(".*.tmp")), "no staged copy is left behind"


def test_a_killed_mart_refresh_leaves_the_old_table_or_the_new(
    busy_day, duckdb_path: Path, tmp_path: Path
) -> None:
    env = cli_env(busy_day.url, duckdb_path, tmp_path / "dagster_home")
    finish(materialize(env, "--partition", DAY))
    marts = "inventory/stock_levels,inventory/low_stock_items"
    path = WritePath(env, (marts,), _stock, (duckdb_path,))

    def reload_changed() -> None:
        _touch_and_delete(busy_day)()
        finish(materialize(env, "--partition", DAY))

    _kill_loop(path, reload_changed, KILLS)


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
