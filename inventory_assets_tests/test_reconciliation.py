"""`rows_match_api` against the real simulator and a real DuckDB file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
from dagster import AssetCheckSeverity, DagsterInstance, Definitions, materialize

from inventory_assets_tests.conftest import (
    TEST_API_KEY,
    check_evaluation,
    day_window,
    expected_records,
    inventory_endpoint,
)

DAY = "2026-11-02"
LATER_DAY = "2026-11-04"


def _run(resources: dict, instance: DagsterInstance, day: str, load: bool = True):
    """Load `day` with its reconciliation, or run only the check (its reconcile_job)."""
    if not load:
        defs = Definitions(
            assets=[inventory_endpoint().assets],
            asset_checks=[inventory_endpoint().rows_match_api],
            jobs=[inventory_endpoint().reconcile_job],
            resources=resources,
        )
        job = defs.resolve_job_def("inventory__inventory_data_reconcile_job")
        return job.execute_in_process(instance=instance, tags={"dagster/partition": day})
    return materialize(
        [inventory_endpoint().assets, inventory_endpoint().rows_match_api],
        resources=resources,
        partition_key=day,
        instance=instance,
    )


def _reconciliation(result):
    evaluation = check_evaluation(result, "rows_match_api")
    assert TEST_API_KEY not in str(evaluation)
    return evaluation


def _values(evaluation) -> dict:
    return {name: value.value for name, value in evaluation.metadata.items()}


def test_passes_after_a_clean_load_with_both_counts(simulator, resources, instance) -> None:
    evaluation = _reconciliation(_run(resources, instance, DAY))

    records = len(expected_records(simulator, *day_window(DAY)))
    assert evaluation.passed
    assert _values(evaluation)["api_total"] == _values(evaluation)["warehouse_rows"] == records
    assert f"{records} rows in the warehouse" in evaluation.description


def test_records_that_moved_to_a_later_day_name_that_day(simulator, resources, instance) -> None:
    _run(resources, instance, DAY)
    moved = [record["id"] for record in expected_records(simulator, *day_window(DAY))[:3]]
    simulator.touch(moved, datetime(2026, 11, 4, 12, tzinfo=UTC))

    evaluation = _reconciliation(_run(resources, instance, DAY))

    assert not evaluation.passed
    assert evaluation.severity == AssetCheckSeverity.WARN
    assert _values(evaluation)["difference"] == 3, "three rows more in the warehouse"
    assert _values(evaluation)["later_days_to_load"] == {LATER_DAY: 3}
    assert f"load partitions {LATER_DAY}" in evaluation.description

    _run(resources, instance, LATER_DAY)
    assert _reconciliation(_run(resources, instance, DAY, load=False)).passed


def test_a_row_deleted_by_hand_is_named_missing(
    simulator, resources, instance, duckdb_path: Path
) -> None:
    _run(resources, instance, DAY)
    listed = expected_records(simulator, *day_window(DAY))
    gone = listed[150]["id"]
    with duckdb.connect(str(duckdb_path)) as con:
        con.execute("delete from inventory.inventory_data where id = ?", [gone])

    evaluation = _reconciliation(_run(resources, instance, DAY, load=False))

    assert not evaluation.passed
    assert "1 records are missing" in evaluation.description
    assert f"Re-run partition {DAY}" in evaluation.description
    assert _values(evaluation)["missing_ids"] == [gone]
    offset = [r["id"] for r in sorted(listed, key=lambda r: (r["updated_at"], r["id"]))].index(gone)
    assert _values(evaluation)["missing_offsets"] == [offset]


def test_an_empty_warehouse_never_passes_for_a_window_with_records(resources, instance) -> None:
    evaluation = _reconciliation(_run(resources, instance, DAY, load=False))

    assert not evaluation.passed
    assert _values(evaluation)["warehouse_rows"] == 0
    assert _values(evaluation)["api_total"] > 0


def test_an_empty_window_passes_with_zero_on_both_sides(resources, instance) -> None:
    evaluation = _reconciliation(_run(resources, instance, "2026-10-01"))

    assert evaluation.passed
    assert _values(evaluation)["api_total"] == _values(evaluation)["warehouse_rows"] == 0
