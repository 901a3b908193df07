"""Downstream SQL gives the exact numbers for a known simulator seed."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import AssetKey, AssetsDefinition, AssetSelection, DagsterInstance, materialize

from inventory_assets.defs.inventory_api.component import (
    build_definitions,
    build_endpoints,
    marts_for,
)
from inventory_assets.settings import DEFS_YAML, SettingsError, settings_from_yaml
from inventory_assets_tests.conftest import (
    SIM_DAYS,
    SIM_START,
    day_window,
    expected_records,
    inventory_endpoint,
    materialize_partition,
    no_inventory_environment,
    rekeyed,
    settings_for,
    shipped_marts,
)

THRESHOLD = 25


def _load_everything(resources: dict, instance: DagsterInstance) -> None:
    for offset in range(SIM_DAYS):
        day = SIM_START.toordinal() + offset
        materialize_partition(resources, SIM_START.fromordinal(day).isoformat(), instance)


def _refresh_marts(
    resources: dict,
    instance: DagsterInstance,
    threshold: int = THRESHOLD,
    upstream: AssetsDefinition | None = None,
):
    return materialize(
        [upstream or inventory_endpoint().assets, *shipped_marts().assets],
        resources=resources,
        instance=instance,
        selection=AssetSelection.assets(*shipped_marts().assets),
        run_config={
            "ops": {"inventory__low_stock_items": {"config": {"reorder_threshold": threshold}}}
        },
    )


def _expected_stock(records: list[dict]) -> dict[tuple, tuple[int, Decimal, int]]:
    """(inventory_id, warehouse) -> (total quantity, total value, records), computed in Python."""
    quantity: dict[tuple, int] = defaultdict(int)
    value: dict[tuple, Decimal] = defaultdict(Decimal)
    count: dict[tuple, int] = defaultdict(int)
    for record in records:
        key = (record["inventory_id"], record["warehouse"])
        quantity[key] += record["quantity"]
        count[key] += 1
        if record["unit_price"] is not None:
            value[key] += record["quantity"] * Decimal(record["unit_price"])
    return {key: (quantity[key], value[key], count[key]) for key in quantity}


def test_stock_levels_and_low_stock_items_are_exact(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    _load_everything(resources, instance)

    result = _refresh_marts(resources, instance)

    expected = _expected_stock(simulator.records)
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        stock = con.execute(
            "select inventory_id, warehouse, total_quantity, total_value, records"
            " from inventory.stock_levels"
        ).fetchall()
        low = con.execute(
            "select inventory_id, warehouse, total_quantity from inventory.low_stock_items"
        ).fetchall()
        value_type = con.execute(
            "select data_type from information_schema.columns"
            " where table_name = 'stock_levels' and column_name = 'total_value'"
        ).fetchone()[0]
    assert value_type == "DECIMAL(38,4)"
    assert {(i, w): (q, v or Decimal(0), n) for i, w, q, v, n in stock} == expected
    expected_low = {key for key, (q, _, _) in expected.items() if q <= THRESHOLD}
    assert {(i, w) for i, w, _ in low} == expected_low
    assert expected_low, "the seed should produce some low-stock items"

    stock_meta = result.asset_materializations_for_node("inventory__stock_levels")[0].metadata
    assert stock_meta["dagster/row_count"].value == len(expected)
    assert "| inventory_id | warehouse |" in stock_meta["preview"].value
    low_meta = result.asset_materializations_for_node("inventory__low_stock_items")[0].metadata
    assert low_meta["dagster/row_count"].value == len(expected_low)
    assert low_meta["reorder_threshold"].value == THRESHOLD
    report = low_meta["report"].value
    assert "![Low-stock items by warehouse](data:image/png;base64,iVBORw0KGgo" in report
    assert f"**{len(expected_low)} items** at or below **{THRESHOLD}** units" in report
    assert "`rows_match_api`" in report and "`schema_drift`" in report, "how to read the checks"


def test_a_changed_record_moves_the_stock_levels(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    _load_everything(resources, instance)
    _refresh_marts(resources, instance)
    record = simulator.records[0]
    key = (record["inventory_id"], record["warehouse"])
    before = _expected_stock(simulator.records)[key][0]
    simulator.touch([record["id"]], _moment(record), quantity=record["quantity"] + 7)

    materialize_partition(resources, record["updated_at"][:10], instance)
    _refresh_marts(resources, instance)

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        (total,) = con.execute(
            "select total_quantity from inventory.stock_levels"
            " where inventory_id = ? and warehouse is not distinct from ?",
            list(key),
        ).fetchone()
    assert total == before + 7


def _moment(record: dict):
    from datetime import datetime

    return datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00"))


def _stock(duckdb_path: Path) -> dict[tuple, tuple[int, Decimal, int]]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        rows = con.execute(
            "select inventory_id, warehouse, total_quantity, total_value, records"
            " from inventory.stock_levels"
        ).fetchall()
    return {(i, w): (q, v or Decimal(0), n) for i, w, q, v, n in rows}


@pytest.mark.parametrize("deletes", ["keep", "flag", "delete"])
def test_the_marts_count_what_the_deletes_setting_keeps(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance, deletes: str
) -> None:
    """`keep` counts a deleted record's stock; `flag` and `delete` do not."""
    env = {"INVENTORY_SYNC_MODE": "client_window", "INVENTORY_DELETES": deletes}
    inventory = build_endpoints(settings_for(env))["inventory_data"].assets
    days = [SIM_START.fromordinal(SIM_START.toordinal() + n).isoformat() for n in range(SIM_DAYS)]

    def load_every_day() -> None:
        for day in days:
            materialize([inventory], resources=resources, partition_key=day, instance=instance)

    load_every_day()
    deleted = simulator.delete_random(25)
    load_every_day()
    _refresh_marts(resources, instance, upstream=inventory)

    counted = simulator.records + (deleted if deletes == "keep" else [])
    assert _stock(duckdb_path) == _expected_stock(counted)


def test_a_renamed_group_and_endpoint_keep_the_marts_and_their_automation(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance, tmp_path: Path
) -> None:
    """The marts follow `group` and `marts_from`: nothing points at a key that is gone."""
    document = yaml.safe_load(DEFS_YAML.read_text())
    attributes = document["attributes"]
    attributes["group"] = "acme"
    attributes["endpoints"]["stock_records"] = attributes["endpoints"].pop("inventory_data")
    attributes["marts_from"] = "stock_records"
    path = tmp_path / "defs.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with no_inventory_environment():
        settings = settings_from_yaml(path)
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    stock_levels, upstream = AssetKey(["acme", "stock_levels"]), AssetKey(["acme", "stock_records"])
    assert graph.get(stock_levels).parent_keys == {upstream}

    automation = defs.resolve_sensor_def("acme_automation_sensor")
    watched = automation.asset_selection.resolve(graph)
    assert {stock_levels, AssetKey(["acme", "low_stock_items"])} <= watched

    # The same definitions, unbound from the code location's resources, run here.
    resources = rekeyed(resources, "acme")
    loader = build_endpoints(settings)["stock_records"].assets
    marts = marts_for(settings)
    assert marts is not None
    day = SIM_START.isoformat()
    loaded = materialize([loader], resources=resources, partition_key=day, instance=instance)
    assert loaded.success
    refreshed = materialize(
        [loader, marts.stock_levels],
        resources=resources,
        instance=instance,
        selection=AssetSelection.assets(stock_levels),
    )
    assert refreshed.success
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        (records,) = con.execute("select sum(records) from inventory.stock_levels").fetchone()
    assert records == len(expected_records(simulator, *day_window(day)))


def test_marts_from_an_endpoint_that_is_not_there_fails_in_one_line(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFS_YAML.read_text())
    document["attributes"]["marts_from"] = "stock"
    path = tmp_path / "defs.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))

    with no_inventory_environment(), pytest.raises(SettingsError) as refused:
        settings_from_yaml(path)
    message = str(refused.value)
    assert "marts_from names 'stock', which is not an endpoint" in message, message
    assert "\n" not in message
