"""Shared fixtures: a simulator on a free port, a private DuckDB file, dlt dirs and DAGSTER_HOME.

Every test gets its own simulator, database and dlt working dir, so tests can
mutate data and inject faults without seeing each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, Definitions, materialize

from inventory_api_sim import InventoryApiSimulator, SimulatorConfig
from inventory_assets.definitions import defs as code_location
from inventory_assets.defs.inventory_api.component import (
    EndpointDefinitions,
    build_endpoints,
    marts_for,
)
from inventory_assets.defs.inventory_api.marts import Marts
from inventory_assets.defs.inventory_api.resources import (
    RESOURCE_NAMES,
    DltWorkingDirResource,
    ResourceKeys,
    VendorApiResource,
)
from inventory_assets.settings import InventorySettings, settings_from_yaml
from inventory_assets.sources.inventory_api import Endpoint
from inventory_assets.warehouse.destination import DestinationResource
from inventory_assets.warehouse.duckdb_file import DuckDBDestinationResource
from inventory_assets.warehouse.postgres import PostgresDestinationResource
from inventory_assets_tests.services import scratch_postgres_database
from inventory_assets_tests.support import TEST_API_KEY


@contextmanager
def no_inventory_environment() -> Iterator[None]:
    """No INVENTORY_* variable set: what defs.yaml gives on a fresh machine."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("INVENTORY_"):
                patch.delenv(name)
        yield


def settings_for(env: Mapping[str, str]) -> InventorySettings:
    """The settings defs.yaml gives with exactly these INVENTORY_* variables set."""
    with no_inventory_environment(), pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return settings_from_yaml()


# Values: they build nothing.
INVENTORY_DATA_KEY = AssetKey(["inventory", "inventory_data"])
STOCK_LEVELS_KEY = AssetKey(["inventory", "stock_levels"])
LOW_STOCK_ITEMS_KEY = AssetKey(["inventory", "low_stock_items"])


# The shipped code location and its parts are built on first use, never when this
# module is imported (pytest imports it for every run, `--collect-only` too), and
# once per process: every test reads the same objects.
@cache
def shipped_settings() -> InventorySettings:
    """The settings defs.yaml gives with no INVENTORY_* variable set."""
    return settings_for({})


@cache
def shipped_code_location() -> Definitions:
    """The whole code location, as `dg` and `dagster -m inventory_assets.definitions` load it."""
    with no_inventory_environment():
        return code_location()


@cache
def contract_endpoint() -> Endpoint:
    """The contract's `inventory_data` as defs.yaml declares it (the one declaration), as
    the dlt source takes it: for tests of the source without the Dagster layer."""
    settings = shipped_settings()
    return settings.endpoints["inventory_data"].endpoint("inventory_data", settings.api)


@cache
def shipped_endpoints() -> dict[str, EndpointDefinitions]:
    return build_endpoints(shipped_settings())


def inventory_endpoint() -> EndpointDefinitions:
    """The contract's endpoint, as the code location builds it."""
    return shipped_endpoints()["inventory_data"]


def warehouses_endpoint() -> EndpointDefinitions:
    """The vendor's second endpoint, as the code location builds it."""
    return shipped_endpoints()["warehouses"]


@cache
def shipped_marts() -> Marts:
    """stock_levels and low_stock_items over inventory_data, as the code location builds them."""
    marts = marts_for(shipped_settings())
    assert marts is not None, "defs.yaml's marts_from names inventory_data"
    return marts


def load_checks() -> list:
    """What a load of inventory_data runs with in these tests: quality and reconciliation
    (the partition freshness check depends on today's date; test_automation covers it)."""
    return [inventory_endpoint().quality_checks, inventory_endpoint().rows_match_api]


SIM_START = date(2026, 11, 1)
SIM_DAYS = 5


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed UI test's report says where the screenshot of its page went."""
    report = yield
    page = getattr(item, "funcargs", {}).get("browser_page")
    if report.when == "call" and report.failed and page is not None:
        from inventory_assets_tests.browser import save_failure_screenshot

        report.sections.append(("screenshot", save_failure_screenshot(page, item.name)))
    return report


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No telemetry, and no dlt or Dagster files outside the test's own directory."""
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt_data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()


def make_simulator(**overrides: Any) -> InventoryApiSimulator:
    """A started simulator with the test key; stop it when done."""
    config = {
        "rows": 1000,
        "days": SIM_DAYS,
        "start": SIM_START,
        "seed": 7,
        "api_key": TEST_API_KEY,
    }
    return InventoryApiSimulator(SimulatorConfig(**{**config, **overrides})).start()


SMALL_SIM_ROWS = 300  # the simulator tests' listings: a few hundred records, several pages


@pytest.fixture
def make_sim() -> Iterator[Callable[..., InventoryApiSimulator]]:
    """Start simulators of SMALL_SIM_ROWS records with the test key and any config; all are
    stopped afterwards."""
    started: list[InventoryApiSimulator] = []

    def make(**overrides: Any) -> InventoryApiSimulator:
        started.append(make_simulator(**{"rows": SMALL_SIM_ROWS, **overrides}))
        return started[-1]

    yield make
    for simulator in started:
        simulator.stop()


@pytest.fixture
def simulator() -> Iterator[InventoryApiSimulator]:
    sim = make_simulator()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def duckdb_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "warehouse.duckdb"


def materialize_endpoint(
    endpoint: EndpointDefinitions,
    resources: dict[str, Any],
    instance: DagsterInstance,
    partition: str | None,
    checks: bool = False,
    **kwargs: Any,
):
    """One run of an endpoint's asset (with `rows_match_api` if `checks`); failures returned."""
    return materialize(
        [endpoint.assets, *([endpoint.rows_match_api] if checks else [])],
        resources=resources,
        partition_key=partition,
        instance=instance,
        raise_on_error=False,
        **kwargs,
    )


def make_resources(
    base_url: str,
    duckdb_path: Path,
    tmp_path: Path,
    api_key: str = TEST_API_KEY,
    request_timeout_seconds: float = 5,
) -> dict[str, Any]:
    """The project's resources pointed at a test simulator, with fast retries."""
    return {
        "inventory_vendor_api": VendorApiResource(
            base_url=base_url,
            api_key=api_key,
            backoff_factor=0.01,
            request_timeout_seconds=request_timeout_seconds,
        ),
        "inventory_destination": DuckDBDestinationResource(path=str(duckdb_path)),
        "inventory_dlt_working_dir": DltWorkingDirResource(
            working_dir=str(tmp_path / "dlt_pipelines")
        ),
    }


@pytest.fixture
def resources(simulator: InventoryApiSimulator, duckdb_path: Path, tmp_path: Path) -> dict:
    return make_resources(simulator.url, duckdb_path, tmp_path)


def rekeyed(resources: Mapping[str, Any], group: str) -> dict[str, Any]:
    """Test resources (the shipped group's keys) under the keys of another group's instance."""
    shipped = ResourceKeys("inventory")
    return {ResourceKeys(group).key(name): resources[shipped.key(name)] for name in RESOURCE_NAMES}


@pytest.fixture
def postgres_destination() -> Iterator[PostgresDestinationResource]:
    """The PostgreSQL destination in a scratch database of its own (skips if unreachable)."""
    with scratch_postgres_database("inventory_warehouse") as url:
        yield PostgresDestinationResource(url=url)


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def materialize_partition(
    resources: dict,
    partition_key: str,
    instance: DagsterInstance,
    raise_on_error: bool = True,
    with_checks: bool = False,
):
    """Materialize one daily partition of `inventory/inventory_data` in process,
    with its quality checks (as the ingest job runs them) if asked."""
    return materialize(
        [inventory_endpoint().assets, *(load_checks() if with_checks else [])],
        resources=resources,
        partition_key=partition_key,
        instance=instance,
        raise_on_error=raise_on_error,
    )


def ingest_metadata(result) -> Mapping[str, Any]:
    """The metadata of the run's one materialization of `inventory/inventory_data`."""
    (event,) = result.asset_materializations_for_node("load_inventory__inventory_data")
    assert event.asset_key == INVENTORY_DATA_KEY
    return event.metadata


def step_failure_message(result) -> str:
    """The message of the run's one failed step (the run must have failed in a step)."""
    assert not result.success
    failures = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert len(failures) == 1, f"the run should have failed in one step: {failures}"
    return failures[0].step_failure_data.error.message


def check_evaluation(result, name: str):
    """The run's one evaluation of the check `name`."""
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def day_window(day: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return start, start + timedelta(days=1)


def expected_records(sim: InventoryApiSimulator, start: datetime, end: datetime) -> list[dict]:
    """What the simulator serves for `[start, end)`, ordered by id."""
    in_window = [
        record
        for record in sim.records
        if start <= datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00")) < end
    ]
    return sorted(in_window, key=lambda record: record["id"])


CONTRACT_COLUMNS = (
    "id, inventory_id, product_name, sku, quantity, unit_price, warehouse, updated_at"
)


def as_warehouse_row(record: dict) -> tuple:
    """An API record as the warehouse holds it: the contract's columns, in declared types."""
    price = record["unit_price"]
    return (
        record["id"],
        record["inventory_id"],
        record["product_name"],
        record["sku"],
        record["quantity"],
        None if price is None else Decimal(price),
        record["warehouse"],
        datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00")),
    )


def warehouse_rows(warehouse: Path | DestinationResource, columns: str = "*") -> list[tuple]:
    """All rows of inventory.inventory_data, ordered by id; [] if the table is missing.

    `warehouse` is a destination resource, or the path of a DuckDB file."""
    destination = (
        warehouse
        if isinstance(warehouse, DestinationResource)
        else DuckDBDestinationResource(path=str(warehouse))
    )
    with destination.connect() as con:
        if not destination.has_table(con, "inventory_data"):
            return []
        return con.fetchall(
            f"select {columns} from {destination.table('inventory_data')} order by id"
        )


def assert_secret_in_no_event(instance: DagsterInstance, secret: str) -> None:
    """`secret` is in no event of any run of `instance` (logs, metadata, errors)."""
    for run in instance.get_runs():
        for record in instance.all_logs(run.run_id):
            assert secret not in str(record)


def assert_key_in_no_file(*roots: Path, secret: str = TEST_API_KEY) -> None:
    """The test key (or another secret) is in no file below `roots` (DAGSTER_HOME, dlt
    dirs, the database)."""
    needle = secret.encode()
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                assert needle not in path.read_bytes(), f"secret found in {path}"
