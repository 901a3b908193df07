"""Schema drift: new vendor fields are loaded and reported; type changes never hide."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import AssetCheckSeverity

from inventory_assets_tests.conftest import (
    check_evaluation,
    day_window,
    expected_records,
    ingest_metadata,
    materialize_partition,
)

DAY = "2026-11-02"


def _load(resources: dict, instance):
    return materialize_partition(resources, DAY, instance, with_checks=True)


def _drift(result):
    return check_evaluation(result, "schema_drift")


def _metadata(result) -> dict:
    return {name: value.value for name, value in ingest_metadata(result).items()}


def _columns(duckdb_path: Path) -> dict[str, str]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        rows = con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'inventory' and table_name = 'inventory_data'"
        ).fetchall()
    return dict(rows)


def test_no_drift_on_a_first_and_a_repeated_load(simulator, resources, instance) -> None:
    assert _drift(_load(resources, instance)).passed, "a first load creates columns, not drift"
    assert _drift(_load(resources, instance)).passed


def test_a_new_vendor_field_loads_and_is_reported(
    simulator, resources, instance, duckdb_path: Path
) -> None:
    _load(resources, instance)
    simulator.add_field("color", "red")

    result = _load(resources, instance)

    assert _metadata(result)["inventory/columns_added"] == {"color": "text"}
    drift = _drift(result)
    assert not drift.passed and drift.severity == AssetCheckSeverity.WARN
    assert "color (text)" in drift.description
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        colors = con.execute("select distinct color from inventory.inventory_data").fetchall()
    assert colors == [("red",)]


def test_a_declared_integer_sent_as_numeric_text_is_converted_and_loaded(
    simulator, resources, instance, duckdb_path: Path
) -> None:
    """`"12"` for an integer loses nothing: it loads as 12, and it is no type change."""
    _load(resources, instance)
    simulator.retype_field("quantity", "text")

    result = _load(resources, instance)

    assert _metadata(result)["inventory/type_changes"] == []
    assert _metadata(result)["inventory/rows_rejected"] == 0
    served = {r["id"]: int(r["quantity"]) for r in expected_records(simulator, *day_window(DAY))}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        loaded = dict(con.execute("select id, quantity from inventory.inventory_data").fetchall())
    assert {key: loaded[key] for key in served} == served
    assert _drift(result).passed


def test_a_declared_column_of_another_type_is_named_not_loaded_as_a_variant(
    simulator, resources, instance, duckdb_path: Path
) -> None:
    _load(resources, instance)
    day_records = sorted(
        expected_records(simulator, *day_window(DAY)), key=lambda r: (r["updated_at"], r["id"])
    )
    retyped = day_records[:3]
    for record in retyped:
        simulator.put_raw({**record, "id": record["id"] + 900_000, "quantity": {"units": 12}})

    result = _load(resources, instance)

    (change,) = _metadata(result)["inventory/type_changes"]
    assert (change["column"], change["expected"], change["seen"]) == (
        "quantity",
        "integer",
        "object",
    )
    assert change["records"] == len(retyped)
    assert change["ids"] == [r["id"] + 900_000 for r in retyped]
    drift = _drift(result)
    assert not drift.passed
    assert "`quantity` arrived as object instead of integer" in drift.description
    assert not [c for c in _columns(duckdb_path) if c.startswith("quantity__")], "no variant"


def test_an_undeclared_field_that_changes_type_is_loaded_and_named(
    simulator, resources, instance, duckdb_path: Path
) -> None:
    simulator.add_field("pack_size", 12)
    _load(resources, instance)
    simulator.add_field("pack_size", "a dozen")  # text that no bigint column can hold

    result = _load(resources, instance)

    assert _metadata(result)["inventory/columns_added"] == {"pack_size__v_text": "text"}
    assert "`pack_size` now also arrives as text" in _drift(result).description
    assert _columns(duckdb_path)["pack_size"] == "BIGINT"
