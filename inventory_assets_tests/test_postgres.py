"""The PostgreSQL destination: the same rows, types, merges, checks and marts as DuckDB.

Each test loads into a scratch database of this machine's PostgreSQL (skipping,
with the reason, when it is unreachable) and, where it compares, into a DuckDB
file from the same simulator.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance, EnvVar, materialize
from sqlalchemy.engine import make_url

from inventory_assets.defs.inventory_api.resources import destination_resource
from inventory_assets.settings import SettingsError, settings_from_yaml
from inventory_assets.warehouse.destination import DESTINATION_ENV, DestinationResource
from inventory_assets.warehouse.duckdb_file import DUCKDB_PATH_ENV, DuckDBDestinationResource
from inventory_assets.warehouse.postgres import (
    ADBC_DRIVER,
    POSTGRES_URL_ENV,
    PostgresDestinationResource,
)
from inventory_assets_tests.conftest import (
    CONTRACT_COLUMNS,
    as_warehouse_row,
    assert_key_in_no_file,
    assert_secret_in_no_event,
    day_window,
    expected_records,
    ingest_metadata,
    inventory_endpoint,
    load_checks,
    make_resources,
    materialize_partition,
    shipped_marts,
    step_failure_message,
    warehouse_rows,
)
from inventory_assets_tests.services import NEEDS_PRODUCTION_EXTRA

DAY = "2026-11-02"
NEXT_DAY = "2026-11-03"
PASSWORD = "pw-Zq7!x9-s3cr3t"
# DuckDB's names for the types PostgreSQL calls otherwise.
DUCKDB_TYPE_NAMES = {"varchar": "character varying", "decimal": "numeric"}


@pytest.fixture
def postgres_resources(simulator, postgres_destination, tmp_path: Path) -> dict:
    resources = make_resources(simulator.url, tmp_path / "unused.duckdb", tmp_path)
    return {**resources, "inventory_destination": postgres_destination}


def _column_types(destination: DestinationResource) -> dict[str, tuple]:
    """Each contract column's type, precision, scale and nullability, named as PostgreSQL does."""
    with destination.connect() as con:
        rows = con.fetchall(
            "select column_name, data_type, numeric_precision, numeric_scale, is_nullable"
            " from information_schema.columns where table_schema = %s and table_name = %s",
            [destination.dataset_name, "inventory_data"],
        )
    types = {}
    for name, data_type, precision, scale, nullable in rows:
        base = data_type.lower().split("(")[0]
        types[name] = (DUCKDB_TYPE_NAMES.get(base, base), precision, scale, nullable)
    return types


def test_a_partition_in_postgres_equals_the_same_partition_in_duckdb(
    simulator, resources, postgres_resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    materialize_partition(resources, DAY, instance)
    result = materialize_partition(postgres_resources, DAY, instance)

    postgres = postgres_resources["inventory_destination"]
    expected = [as_warehouse_row(r) for r in expected_records(simulator, *day_window(DAY))]
    in_postgres = warehouse_rows(postgres, CONTRACT_COLUMNS)
    assert in_postgres == expected
    assert in_postgres == warehouse_rows(duckdb_path, CONTRACT_COLUMNS)
    # The data exercises what could differ: nulls, non-ASCII text, exact prices.
    assert any(row[5] is None for row in expected) and any(row[3] is None for row in expected)
    assert any(not row[2].isascii() for row in expected)
    for row in in_postgres:
        assert type(row[0]) is int and type(row[4]) is int
        assert row[5] is None or row[5].as_tuple().exponent == -4
        assert row[7].utcoffset() is not None, "timestamps keep their time zone"

    types = _column_types(postgres)
    assert types == _column_types(resources["inventory_destination"])
    assert types["id"][:3] == ("bigint", 64, 0)
    assert types["unit_price"][:3] == ("numeric", 18, 4)
    assert types["updated_at"][0] == "timestamp with time zone"
    assert types["id"][3] == types["updated_at"][3] == "NO"
    metadata = ingest_metadata(result)
    assert metadata["inventory/destination"].value == f"postgres: {postgres.location()}"
    assert metadata["dagster/row_count"].value == len(expected)


def test_a_rerun_merges_and_a_changed_record_is_replaced(
    simulator, postgres_resources, instance: DagsterInstance
) -> None:
    postgres = postgres_resources["inventory_destination"]
    materialize_partition(postgres_resources, DAY, instance)
    first = warehouse_rows(postgres, CONTRACT_COLUMNS)

    materialize_partition(postgres_resources, DAY, instance)
    assert warehouse_rows(postgres, CONTRACT_COLUMNS) == first

    changed = first[0][0]
    simulator.touch([changed], datetime(2026, 11, 2, 23, 0, tzinfo=UTC), quantity=4242)
    materialize_partition(postgres_resources, DAY, instance)

    rows = warehouse_rows(postgres, "id, quantity")
    assert [row for row in rows if row[0] == changed] == [(changed, 4242)]
    assert len(rows) == len(first) == len({row[0] for row in rows})


def _with_json(rows: list[tuple]) -> list[tuple]:
    """Rows whose last column is JSON, decoded (DuckDB hands it over as text)."""
    return [
        (*row[:-1], row[-1] if isinstance(row[-1], dict) else json.loads(row[-1])) for row in rows
    ]


def test_vendor_fields_and_rejects_load_into_postgres_as_into_duckdb(
    simulator, resources, postgres_resources, instance: DagsterInstance
) -> None:
    """A new field, a nested one and a record that breaks the contract: the rows that
    take dlt's inferred path (and the rejects table) arrive as in DuckDB, whichever
    file format dlt bulk-loads PostgreSQL with."""
    postgres = postgres_resources["inventory_destination"]
    assert postgres.loader_file_format() == "parquet", "the production extra brings ADBC"
    materialize_partition(resources, DAY, instance)
    materialize_partition(postgres_resources, DAY, instance)
    simulator.add_field("color", "red")
    simulator.add_field("dimensions", {"w_cm": 12, "h_cm": 3.5, "tags": ["fragile"]})
    broken = expected_records(simulator, *day_window(DAY))[0]
    simulator.put_raw({**broken, "id": broken["id"] + 900_000, "quantity": {"units": 12}})

    materialize_partition(resources, DAY, instance)
    result = materialize_partition(postgres_resources, DAY, instance)

    in_duckdb = _with_json(
        warehouse_rows(resources["inventory_destination"], "id, color, dimensions")
    )
    in_postgres = _with_json(warehouse_rows(postgres, "id, color, dimensions"))
    assert in_postgres == in_duckdb
    assert {(color, json.dumps(dims)) for _, color, dims in in_postgres} == {
        ("red", json.dumps({"w_cm": 12, "h_cm": 3.5, "tags": ["fragile"]}))
    }
    assert ingest_metadata(result)["inventory/rows_rejected"].value == 1
    with postgres.connect() as con:
        rejected = con.fetchall(
            f"select record_id from {postgres.table('inventory_data_rejected')}"
        )
    assert rejected == [(str(broken["id"] + 900_000),)]


def _checks_and_marts(resources: dict, day: str) -> dict[str, Any]:
    """What one run of the ingest, its checks and the marts reports, on a fresh instance."""
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [inventory_endpoint().assets, *load_checks(), *shipped_marts().assets],
            resources=resources,
            partition_key=day,
            instance=instance,
            raise_on_error=False,
        )
    return {
        "checks": {
            e.check_name: (e.passed, e.description, {k: v.value for k, v in e.metadata.items()})
            for e in result.get_asset_check_evaluations()
        },
        "materialized": {
            e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
        },
    }


def _marts(destination: DestinationResource) -> dict[str, list[tuple]]:
    with destination.connect() as con:
        return {
            table: con.fetchall(f"select * from {destination.table(table)} order by 1, 2")
            for table in ("stock_levels", "low_stock_items")
        }


def test_checks_and_downstream_assets_give_the_same_results_on_both(
    simulator, resources, postgres_resources
) -> None:
    negative = expected_records(simulator, *day_window(NEXT_DAY))[3]["id"]
    simulator.touch([negative], datetime(2026, 11, 3, 12, tzinfo=UTC), quantity=-5)

    outcomes = {}
    for name, each in (("duckdb", resources), ("postgres", postgres_resources)):
        good, bad = _checks_and_marts(each, DAY), _checks_and_marts(each, NEXT_DAY)
        outcomes[name] = (good, bad, _marts(each["inventory_destination"]))

    assert outcomes["postgres"] == outcomes["duckdb"]
    good, bad, marts = outcomes["postgres"]
    assert all(passed for passed, _, _ in good["checks"].values()) and len(good["checks"]) == 7
    assert good["materialized"] == {
        "inventory/inventory_data",
        "inventory/stock_levels",
        "inventory/low_stock_items",
    }
    passed, _, metadata = bad["checks"]["quantity_not_negative"]
    assert not passed and metadata["sample_ids"] == [negative]
    assert bad["materialized"] == {"inventory/inventory_data"}, "a failed check blocks downstream"
    assert any(isinstance(row[4], Decimal) for row in marts["stock_levels"]), "exact values"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            f"postgresql://inventory:{PASSWORD}@127.0.0.1:1/test",
            "Cannot connect to the PostgreSQL destination "
            "postgresql://inventory:***@127.0.0.1:1/test",
        ),
        (f"mysql://inventory:{PASSWORD}@127.0.0.1/test", "has the scheme 'mysql'"),
        (f"inventory:{PASSWORD}@127.0.0.1", "is not a connection string"),
    ],
    ids=["unreachable", "wrong-scheme", "not-a-url"],
)
def test_a_wrong_url_fails_clearly_without_the_password(
    simulator, tmp_path: Path, instance: DagsterInstance, url: str, says: str
) -> None:
    pytest.importorskip("psycopg2", reason=NEEDS_PRODUCTION_EXTRA)
    resources = make_resources(simulator.url, tmp_path / "unused.duckdb", tmp_path)
    resources["inventory_destination"] = PostgresDestinationResource(url=url)

    result = materialize_partition(resources, DAY, instance, raise_on_error=False)

    assert not result.success
    message = step_failure_message(result)
    assert says in message and POSTGRES_URL_ENV in message
    assert_secret_in_no_event(instance, PASSWORD)
    assert not simulator.requests, "nothing is fetched for a warehouse that cannot take it"


def test_the_password_appears_in_no_event_metadata_or_file(
    simulator, postgres_destination, tmp_path: Path, instance: DagsterInstance
) -> None:
    # This server trusts local connections: the password travels but is never checked.
    url = make_url(postgres_destination.url).set(password=PASSWORD)
    destination = PostgresDestinationResource(url=url.render_as_string(hide_password=False))
    resources = {
        **make_resources(simulator.url, tmp_path / "unused.duckdb", tmp_path),
        "inventory_destination": destination,
    }

    result = materialize(
        [inventory_endpoint().assets, *load_checks(), *shipped_marts().assets],
        resources=resources,
        partition_key=DAY,
        instance=instance,
    )

    assert result.success
    assert ingest_metadata(result)["inventory/destination"].value.startswith(
        "postgres: postgresql://"
    )
    assert ":***@" in ingest_metadata(result)["inventory/destination"].value
    assert_secret_in_no_event(instance, PASSWORD)
    assert_key_in_no_file(tmp_path, secret=PASSWORD)


def test_loads_into_postgres_take_turns(postgres_destination: PostgresDestinationResource) -> None:
    """dlt merges through one staging table per dataset, so writers must not overlap."""
    entered = threading.Event()

    def second_writer() -> None:
        with postgres_destination.write_lock():
            entered.set()

    with postgres_destination.write_lock():
        writer = threading.Thread(target=second_writer)
        writer.start()
        assert not entered.wait(1), "a second writer got in while the first held the lock"
    assert entered.wait(10), "the second writer got the lock once the first let go"
    writer.join()


def test_the_destination_is_chosen_by_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(DESTINATION_ENV, raising=False)
    monkeypatch.setenv(DUCKDB_PATH_ENV, str(tmp_path / "w.duckdb"))
    default = destination_resource(settings_from_yaml())
    assert isinstance(default, DuckDBDestinationResource) and default.kind == "duckdb"
    assert default.path == str(tmp_path / "w.duckdb")

    monkeypatch.setenv(DESTINATION_ENV, "postgres")
    postgres = destination_resource(settings_from_yaml())
    assert isinstance(postgres, PostgresDestinationResource) and postgres.kind == "postgres"
    assert postgres.url == EnvVar(POSTGRES_URL_ENV), "resolved where the run executes"

    monkeypatch.setenv(DESTINATION_ENV, "snowflake")
    with pytest.raises(SettingsError, match="INVENTORY_DESTINATION='snowflake'"):
        settings_from_yaml()


def test_every_asset_names_the_configured_destination_as_its_kind(tmp_path: Path) -> None:
    script = (
        "from inventory_assets.definitions import defs\n"
        "graph = defs().resolve_asset_graph()\n"
        "for key in sorted(graph.get_all_asset_keys()):\n"
        "    node = graph.get(key)\n"
        "    storage = node.metadata.get('dagster/storage_kind', '-')\n"
        "    print(key.to_user_string(), ','.join(sorted(node.kinds)), storage)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), DESTINATION_ENV: "postgres"}
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, env=env, capture_output=True, text=True
    )
    assert out.stdout.splitlines() == [
        "inventory/inventory_data dlt,postgres postgres",
        "inventory/low_stock_items postgres,sql postgres",
        "inventory/stock_levels postgres,sql postgres",
        "inventory/vendor_contract api -",  # kept in Dagster's metadata, not the warehouse
        "inventory/warehouses dlt,postgres postgres",
    ]


def test_without_the_driver_the_error_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # what a base install has
    destination = PostgresDestinationResource(url="postgresql://postgres@127.0.0.1:5432/test")

    extra = r"pip install 'inventory_assets\[production\]'"
    with pytest.raises(ImportError, match=extra), destination.connect():
        pass


def test_without_adbc_the_error_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == ADBC_DRIVER else real_find_spec(name, *args),
    )
    destination = PostgresDestinationResource(url="postgresql://postgres@127.0.0.1:5432/test")

    extra = r"pip install 'inventory_assets\[production\]'"
    with pytest.raises(ImportError, match=extra):
        destination.loader_file_format()
