"""A second endpoint of the same vendor, declared only in defs.yaml: `/v1/warehouses`.

It gets what `inventory_data` gets: typed columns, merge on its own key (`code`),
the completeness check, quality checks on its key and columns, and the
reconciliation with the API; it is loaded whole (sync mode `full`), unpartitioned.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dagster import DagsterInstance, materialize

from inventory_assets_tests.conftest import check_evaluation, warehouses_endpoint

COLUMNS = "code, name, city, capacity, updated_at"


def _load(resources: dict, instance: DagsterInstance):
    endpoint = warehouses_endpoint()
    return materialize(
        [endpoint.assets, endpoint.quality_checks, endpoint.rows_match_api],
        resources=resources,
        instance=instance,
    )


def _as_row(warehouse: dict) -> tuple:
    moment = datetime.fromisoformat(warehouse["updated_at"].replace("Z", "+00:00"))
    return (
        warehouse["code"],
        warehouse["name"],
        warehouse["city"],
        warehouse["capacity"],
        moment,
    )


def _rows(resources: dict) -> list[tuple]:
    destination = resources["inventory_destination"]
    with destination.connect() as con:
        return con.fetchall(
            f"select {COLUMNS} from {destination.table('warehouses')} order by code"
        )


def test_the_warehouses_load_exactly_with_their_checks(
    simulator, resources, instance: DagsterInstance
) -> None:
    result = _load(resources, instance)

    assert _rows(resources) == [_as_row(w) for w in simulator.warehouses]
    assert len(simulator.warehouses) > 1
    for name in ("code_is_unique", "required_columns_not_null", "capacity_not_negative"):
        evaluation = check_evaluation(result, name)
        assert evaluation.passed and evaluation.metadata["offending_rows"].value == 0
    reconciled = check_evaluation(result, "rows_match_api")
    assert reconciled.passed, reconciled.description
    assert reconciled.metadata["api_total"].value == len(simulator.warehouses)


def test_a_reload_merges_on_code_and_a_changed_warehouse_is_replaced(
    simulator, resources, instance: DagsterInstance, duckdb_path: Path
) -> None:
    _load(resources, instance)
    code = simulator.warehouses[0]["code"]
    simulator.touch_warehouse(code, datetime(2026, 11, 5, 9, tzinfo=UTC), capacity=7)

    _load(resources, instance)

    rows = _rows(resources)
    assert rows == [_as_row(w) for w in simulator.warehouses], "one row per code, the newest"
    assert dict((row[0], row[3]) for row in rows)[code] == 7


def test_the_warehouses_columns_have_their_declared_types(
    simulator, resources, instance: DagsterInstance
) -> None:
    result = _load(resources, instance)

    (event,) = result.asset_materializations_for_node("load_inventory__warehouses")
    schema = {c.name: c for c in event.metadata["dagster/column_schema"].value.columns}
    assert schema["code"].type == "text" and not schema["code"].constraints.nullable
    assert schema["capacity"].type == "bigint"
    assert schema["updated_at"].type == "timestamp with time zone"
    assert schema["city"].description == "City"
