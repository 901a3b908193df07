"""`inventory/inventory_data` through in-process `materialize()`: exact rows, types, retries."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, materialize

from inventory_assets.defs.inventory_api.load_metadata import LoadMetadata
from inventory_assets.defs.inventory_api.resources import VendorApiResource, heartbeat
from inventory_assets_tests.conftest import (
    CONTRACT_COLUMNS,
    TEST_API_KEY,
    as_warehouse_row,
    assert_secret_in_no_event,
    day_window,
    expected_records,
    ingest_metadata,
    inventory_endpoint,
    make_resources,
    materialize_partition,
    step_failure_message,
    warehouse_rows,
)

DAY = "2026-11-02"


def test_partition_loads_exactly_its_window_with_declared_types(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    result = materialize_partition(resources, DAY, instance)

    expected = [as_warehouse_row(r) for r in expected_records(simulator, *day_window(DAY))]
    assert len(expected) > 100, "the day should span several pages"
    assert warehouse_rows(duckdb_path, CONTRACT_COLUMNS) == expected

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'inventory' and table_name = 'inventory_data'"
            ).fetchall()
        )
        not_null = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns where table_schema ="
                " 'inventory' and table_name = 'inventory_data' and is_nullable = 'NO'"
            ).fetchall()
        }
    assert types["id"] == "BIGINT"
    assert types["quantity"] == "BIGINT"
    assert types["unit_price"] == "DECIMAL(18,4)"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["product_name"] == "VARCHAR"
    assert {"id", "inventory_id", "quantity", "updated_at"} <= not_null

    metadata = ingest_metadata(result)
    pages = len(expected) // 100 + 1
    assert metadata["inventory/rows_loaded"].value == len(expected)
    assert metadata["inventory/pages_fetched"].value == pages
    assert metadata["inventory/retries"].value == 0
    assert metadata["dagster/row_count"].value == len(expected)
    assert metadata["dagster/partition_row_count"].value == len(expected), "the partition's own"
    assert metadata["inventory/window_start"].value == "2026-11-02T00:00:00+00:00"
    assert metadata["inventory/window_end"].value == "2026-11-03T00:00:00+00:00"
    steps = ("extract", "normalize", "load")
    assert all(metadata[f"inventory/seconds_{step}"].value > 0 for step in steps)
    # Every key but Dagster's own table keys is a field of the one typed set the checks read.
    ours = {key for key in metadata if not key.startswith("dagster/")}
    assert ours == set(LoadMetadata.extract(metadata).keys())
    columns = {c.name: c for c in metadata["dagster/column_schema"].schema.columns}
    assert columns["id"].constraints.nullable is False
    assert columns["unit_price"].type == "decimal(18,4)"
    assert columns["updated_at"].type == "timestamp with time zone"

    sent = simulator.requests[0]
    assert sent["updated_since"] == "2026-11-02T00:00:00Z"
    assert sent["updated_before"] == "2026-11-03T00:00:00Z"
    assert sent["limit"] == "100"


def test_rerunning_a_partition_changes_nothing(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    materialize_partition(resources, DAY, instance)
    first = warehouse_rows(duckdb_path, CONTRACT_COLUMNS)

    materialize_partition(resources, DAY, instance)

    assert warehouse_rows(duckdb_path, CONTRACT_COLUMNS) == first


def test_a_changed_record_is_replaced_not_duplicated(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    materialize_partition(resources, DAY, instance)
    changed = expected_records(simulator, *day_window(DAY))[0]["id"]
    simulator.touch([changed], datetime(2026, 11, 2, 23, 0, tzinfo=UTC), quantity=4242)

    materialize_partition(resources, DAY, instance)

    rows = warehouse_rows(duckdb_path, "id, quantity")
    assert [row for row in rows if row[0] == changed] == [(changed, 4242)]
    assert len(rows) == len({row[0] for row in rows})


def test_the_warehouse_keeps_no_staged_copy_of_a_load(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    """dlt merges through a staging table; once merged, its copy of the rows is gone."""
    materialize_partition(resources, "2026-10-01", instance)  # an empty window: nothing staged
    materialize_partition(resources, DAY, instance)

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        (staged,) = con.execute("select count(*) from inventory_staging.inventory_data").fetchone()
    assert staged == 0
    assert len(warehouse_rows(duckdb_path, "id")) == len(
        expected_records(simulator, *day_window(DAY))
    )


def test_transient_errors_below_the_retry_limit_succeed(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    simulator.fail_next(429, times=1, retry_after=0)
    simulator.fail_next(503, times=2)

    result = materialize_partition(resources, DAY, instance)

    assert ingest_metadata(result)["inventory/retries"].value == 3
    assert len(warehouse_rows(duckdb_path)) == len(expected_records(simulator, *day_window(DAY)))


def test_four_failures_in_a_row_fail_clearly_and_keep_earlier_data(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    materialize_partition(resources, DAY, instance)
    before = warehouse_rows(duckdb_path)
    simulator.reset_stats()
    simulator.fail_next(503, times=4)

    result = materialize_partition(resources, DAY, instance, raise_on_error=False)

    assert not result.success
    message = step_failure_message(result)
    assert "HTTP 503" in message
    assert "after 3 retries" in message
    assert "/v1/resource (offset 0)" in message
    assert simulator.request_count == 4
    assert warehouse_rows(duckdb_path) == before


def test_a_rejected_key_fails_at_once_without_retrying(
    simulator, duckdb_path: Path, tmp_path: Path, instance: DagsterInstance
) -> None:
    wrong_key = "wrong-key-that-must-not-leak"
    resources = make_resources(simulator.url, duckdb_path, tmp_path, api_key=wrong_key)

    result = materialize_partition(resources, DAY, instance, raise_on_error=False)

    assert not result.success
    assert "rejected the API key (HTTP 401)" in step_failure_message(result)
    assert simulator.request_count == 1
    assert_secret_in_no_event(instance, wrong_key)


def test_an_empty_window_succeeds_with_zero_rows(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    result = materialize_partition(resources, "2026-10-15", instance)

    metadata = ingest_metadata(result)
    assert metadata["inventory/rows_loaded"].value == 0
    assert metadata["dagster/row_count"].value == 0
    assert warehouse_rows(duckdb_path) == []


def test_a_total_that_is_a_multiple_of_the_page_size_stops_paging(
    duckdb_path: Path, tmp_path: Path, instance: DagsterInstance
) -> None:
    from inventory_assets_tests.conftest import make_simulator

    sim = make_simulator(rows=300, days=1)
    try:
        resources = make_resources(sim.url, duckdb_path, tmp_path)
        result = materialize_partition(resources, "2026-11-01", instance)
        # Three full pages, then one empty page: a full page never ends the paging,
        # since a `total` can understate what is there.
        assert sim.request_count == 4
    finally:
        sim.stop()
    assert ingest_metadata(result)["inventory/pages_fetched"].value == 4
    assert len(warehouse_rows(duckdb_path)) == 300


def test_an_unknown_vendor_field_loads(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    simulator.add_field("color", "red")

    materialize_partition(resources, DAY, instance)

    colors = {row[0] for row in warehouse_rows(duckdb_path, "color")}
    assert colors == {"red"}


def test_every_row_has_a_row_id_and_its_load_id_whichever_path_it_took(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    """Arrow batches bring their own `_dlt_id` (batching.py); records with an undeclared
    field go through dlt's JSON path, which adds it: both end up with unique ids, and
    with the load id of the run that loaded them (the checks select rows by it)."""
    loads = {}
    for day, field in (("2026-11-03", None), ("2026-11-04", "color")):  # Arrow, then JSON
        if field:
            simulator.add_field(field, "red")
        result = materialize_partition(resources, day, instance)
        metadata = result.get_asset_materialization_events()[0].materialization.metadata
        loads[day] = set(metadata["inventory/dlt_load_ids"].value.split(","))

    rows = warehouse_rows(duckdb_path, "_dlt_id, _dlt_load_id, updated_at")
    ids = [row_id for row_id, _, _ in rows]
    assert rows and None not in ids and len(set(ids)) == len(ids)
    for row_id, load_id, updated_at in rows:
        assert load_id in loads[updated_at.date().isoformat()], row_id


def test_the_key_appears_in_no_log_event_or_error(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance, caplog
) -> None:
    simulator.fail_next(500, times=2)
    materialize_partition(resources, DAY, instance)
    simulator.fail_next(502, times=4)
    materialize_partition(resources, DAY, instance, raise_on_error=False)

    assert TEST_API_KEY not in caplog.text
    assert_secret_in_no_event(instance, TEST_API_KEY)


def test_an_unreachable_api_fails_with_a_clear_message(
    duckdb_path: Path, tmp_path: Path, instance: DagsterInstance
) -> None:
    resources = make_resources("http://127.0.0.1:9", duckdb_path, tmp_path)

    result = materialize_partition(resources, DAY, instance, raise_on_error=False)

    assert "Could not connect to the inventory API at http://127.0.0.1:9" in step_failure_message(
        result
    )
    assert_secret_in_no_event(instance, TEST_API_KEY)


def test_two_partitions_running_at_once_both_land(simulator, resources, duckdb_path: Path) -> None:
    days = ["2026-11-02", "2026-11-03"]
    results: dict[str, bool] = {}

    def run(day: str) -> None:
        with DagsterInstance.ephemeral() as own_instance:
            results[day] = materialize_partition(resources, day, own_instance).success

    threads = [threading.Thread(target=run, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert results == {day: True for day in days}
    expected = [
        record["id"] for day in days for record in expected_records(simulator, *day_window(day))
    ]
    assert [row[0] for row in warehouse_rows(duckdb_path, "id")] == sorted(expected)


@pytest.mark.parametrize("day", ["2026-11-01", "2026-11-05"])
def test_edge_days_of_the_data_load(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance, day: str
) -> None:
    materialize_partition(resources, day, instance)

    assert [row[0] for row in warehouse_rows(duckdb_path, "id")] == [
        record["id"] for record in expected_records(simulator, *day_window(day))
    ]


def _leftover(working_dir: Path, name: str, age_seconds: float = 0) -> Path:
    """A run directory as a run (or a killed one) leaves it, last touched `age_seconds` ago."""
    leftover = working_dir / name
    (leftover / "inventory").mkdir(parents=True)
    (leftover / "inventory" / "state.json").write_text("{}")
    then = time.time() - age_seconds
    os.utime(leftover, (then, then))
    return leftover


def _run_of(instance: DagsterInstance, status: DagsterRunStatus) -> str:
    run = instance.add_run(
        DagsterRun(job_name="inventory__inventory_data_ingest_job", status=status)
    )
    return run.run_id


TWO_DAYS = 2 * 24 * 3600


def test_run_directories_are_private_and_abandoned_ones_are_pruned(
    simulator, resources, tmp_path: Path, instance: DagsterInstance
) -> None:
    working_dir = tmp_path / "dlt_pipelines"
    abandoned = _leftover(working_dir, "inventory-dlt-deadbeef-old", TWO_DAYS)
    recent = _leftover(working_dir, "inventory-dlt-cafebabe-new")

    materialize_partition(resources, DAY, instance)

    assert not abandoned.exists(), "a killed run's directory is pruned after a day"
    assert recent.exists(), "a directory that may belong to a running run is kept"
    assert sorted(p.name for p in working_dir.iterdir()) == [recent.name], "own dir removed"


def test_a_run_in_progress_keeps_its_directory_however_old(
    simulator, resources, tmp_path: Path, instance: DagsterInstance
) -> None:
    """A run that outlives the age limit: the instance says it is in progress."""
    working_dir = tmp_path / "dlt_pipelines"
    live = _run_of(instance, DagsterRunStatus.STARTED)
    finished = _run_of(instance, DagsterRunStatus.FAILURE)
    long_run = _leftover(working_dir, f"inventory-dlt-{live}-x1", TWO_DAYS)
    killed = _leftover(working_dir, f"inventory-dlt-{finished}-x2", TWO_DAYS)

    materialize_partition(resources, DAY, instance)

    assert long_run.exists(), "the directory of a run still in progress is never pruned"
    assert not killed.exists(), "a finished run's old directory is"


def test_a_live_run_touches_its_directory(tmp_path: Path) -> None:
    """dlt writes only below it: the heartbeat keeps a long run's directory young."""
    directory = _leftover(tmp_path, "inventory-dlt-run", TWO_DAYS)
    with heartbeat(directory, interval=0.05):
        time.sleep(0.3)
    assert time.time() - directory.stat().st_mtime < 60


@pytest.mark.parametrize("max_concurrency", [1, 3])
def test_a_range_loads_in_one_run_with_bounded_concurrency(
    simulator, duckdb_path: Path, tmp_path: Path, instance: DagsterInstance, max_concurrency: int
) -> None:
    days = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]
    resources = make_resources(simulator.url, duckdb_path, tmp_path)
    resources["inventory_vendor_api"] = VendorApiResource(
        base_url=simulator.url, api_key=TEST_API_KEY, max_concurrency=max_concurrency
    )

    result = materialize(
        [inventory_endpoint().assets],
        resources=resources,
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        },
    )

    expected = sorted(
        r["id"] for day in days for r in expected_records(simulator, *day_window(day))
    )
    assert [row[0] for row in warehouse_rows(duckdb_path, "id")] == expected
    materializations = result.asset_materializations_for_node("load_inventory__inventory_data")
    assert len(materializations) == len(days)
    assert materializations[0].metadata["inventory/total_announced"].value == len(expected)
    windows = {(q["updated_since"], q["updated_before"]) for q in simulator.requests}
    if max_concurrency == 1:
        assert windows == {("2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z")}
    else:
        assert len(windows) == len(days), "one sub-window per day"
