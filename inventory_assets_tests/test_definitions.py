"""The code location loads, names what the docs say, and imports without side effects."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from dagster import (
    AssetKey,
    BackfillPolicy,
    DailyPartitionsDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    EnvVar,
)

from inventory_assets.settings import SettingsError, settings_from_yaml
from inventory_assets.sources.inventory_api import inventory_source
from inventory_assets_tests.conftest import (
    INVENTORY_DATA_KEY,
    contract_endpoint,
    inventory_endpoint,
    shipped_code_location,
    warehouses_endpoint,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "inventory_assets"

INVENTORY_DATA = AssetKey(["inventory", "inventory_data"])
WAREHOUSES_KEY = AssetKey(["inventory", "warehouses"])
STOCK_LEVELS = AssetKey(["inventory", "stock_levels"])
LOW_STOCK_ITEMS = AssetKey(["inventory", "low_stock_items"])
VENDOR_CONTRACT = AssetKey(["inventory", "vendor_contract"])
INGEST_SCHEDULE = "inventory__inventory_data_daily_schedule"


def test_inventory_data_spec_snapshot() -> None:
    graph = shipped_code_location().resolve_asset_graph()
    key = INVENTORY_DATA
    assert inventory_endpoint().key == INVENTORY_DATA_KEY == key, "conftest's key is the built one"

    assert set(graph.get_all_asset_keys()) == {
        INVENTORY_DATA,
        WAREHOUSES_KEY,
        STOCK_LEVELS,
        LOW_STOCK_ITEMS,
        VENDOR_CONTRACT,
    }
    assert graph.get(VENDOR_CONTRACT).kinds == {"api"}, "kept in Dagster, not the warehouse"
    node = graph.get(key)
    assert node.group_name == "inventory"
    assert node.kinds == {"dlt", "duckdb"}
    assert node.parent_keys == set(), "no phantom upstream dlt source asset"
    assert "REST API" in (node.description or "")
    partitions = node.partitions_def
    assert isinstance(partitions, DailyPartitionsDefinition)
    assert partitions.timezone == "UTC"
    assert partitions.start.strftime("%Y-%m-%d") == "2026-01-01"
    assert node.backfill_policy == BackfillPolicy.single_run()
    assert node.freshness_policy is None, "the partition freshness check is its one signal"
    assert node.pools == {"vendor_api_calls"}


def test_the_second_endpoint_is_its_own_unpartitioned_asset() -> None:
    graph = shipped_code_location().resolve_asset_graph()
    node = graph.get(WAREHOUSES_KEY)
    assert node.partitions_def is None, "a full listing is loaded whole"
    assert node.freshness_policy is not None, "an unpartitioned asset's freshness signal"
    assert node.kinds == {"dlt", "duckdb"}
    assert node.parent_keys == set()
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == WAREHOUSES_KEY}
    assert checks == {
        "code_is_unique",
        "required_columns_not_null",
        "capacity_not_negative",
        "no_rejected_records",
        "schema_drift",
        "rows_match_api",
    }


def test_downstream_and_checks_snapshot() -> None:
    graph = shipped_code_location().resolve_asset_graph()
    assert graph.get(STOCK_LEVELS).parent_keys == {INVENTORY_DATA}
    assert graph.get(LOW_STOCK_ITEMS).parent_keys == {STOCK_LEVELS}
    for key in (STOCK_LEVELS, LOW_STOCK_ITEMS):
        node = graph.get(key)
        assert node.group_name == "inventory"
        assert node.partitions_def is None
        assert node.automation_condition is not None
    checks = {key.name: key for key in graph.asset_check_keys if key.asset_key == INVENTORY_DATA}
    assert set(checks) == {
        "id_is_unique",
        "required_columns_not_null",
        "quantity_not_negative",
        "updated_at_in_window",
        "no_rejected_records",
        "schema_drift",
        "rows_match_api",
        "freshness_check",
    }
    assert (
        graph.get(checks["rows_match_api"]).partitions_def
        == graph.get(INVENTORY_DATA).partitions_def
    )
    blocking = {name for name, key in checks.items() if graph.get(key).blocking}
    assert blocking == {"id_is_unique", "required_columns_not_null", "quantity_not_negative"}


def test_jobs_sensors_and_schedule_snapshot() -> None:
    ingest = shipped_code_location().resolve_job_def("inventory__inventory_data_ingest_job")
    ingest_checks = {key.name for key in ingest.asset_layer.asset_graph.asset_check_keys}
    assert {"freshness_check", "rows_match_api", "id_is_unique"} <= ingest_checks, (
        "a load evaluates its checks, partition freshness included, in its own run"
    )
    assert ingest.partitions_def is not None
    assert (
        shipped_code_location().resolve_job_def("inventory__warehouses_ingest_job").partitions_def
        is None
    )
    refresh = shipped_code_location().resolve_job_def("inventory_refresh_job")
    assert refresh.asset_layer.executable_asset_keys == {STOCK_LEVELS, LOW_STOCK_ITEMS}

    statuses = {s.name: s.default_status for s in shipped_code_location().sensors}
    assert statuses == {
        "inventory__inventory_data_change_sensor": DefaultSensorStatus.STOPPED,
        "inventory__warehouses_change_sensor": DefaultSensorStatus.STOPPED,
        "inventory_freshness_sensor": DefaultSensorStatus.RUNNING,
        "inventory_automation_sensor": DefaultSensorStatus.RUNNING,
    }
    schedules = {s.name: s.default_status for s in shipped_code_location().schedules}
    assert schedules == {
        "inventory__inventory_data_daily_schedule": DefaultScheduleStatus.STOPPED,
        "inventory__warehouses_daily_schedule": DefaultScheduleStatus.STOPPED,
        "inventory_vendor_contract_schedule": DefaultScheduleStatus.STOPPED,
    }
    crons = {s.name: s.cron_schedule for s in shipped_code_location().schedules}
    assert (crons["inventory_vendor_contract_schedule"], crons[INGEST_SCHEDULE]) == (
        "5 0 * * *",
        "15 0 * * *",
    ), "the watch runs before the day's loads"


def test_resources_take_url_and_key_from_the_environment() -> None:
    api = shipped_code_location().resources["inventory_vendor_api"]
    assert api.base_url == EnvVar("INVENTORY_API_BASE_URL")
    assert api.api_key == EnvVar("INVENTORY_API_KEY")
    assert isinstance(api.api_key, EnvVar), "the key must never be a literal in code"
    resources = set(shipped_code_location().resources)
    assert resources == {
        "inventory_vendor_api",
        "inventory_destination",
        "inventory_dlt_working_dir",
    }


def test_spec_source_and_run_time_source_expose_the_same_resources() -> None:
    run_time = inventory_source("http://127.0.0.1:1", "key", endpoint=contract_endpoint())
    spec_keys = {spec.key for spec in inventory_endpoint().assets.specs}
    assert set(run_time.resources) == {"inventory_data"}
    assert spec_keys == {AssetKey(["inventory", name]) for name in run_time.resources}


def test_defs_yaml_declares_the_fields_of_the_contract_document() -> None:
    """defs.yaml is the one declaration of the contract's endpoints; it says what the
    field tables of docs/inventory-api.md say (inventory_data's, then warehouses'),
    column by column."""
    rows = re.findall(
        r"^\| `(\w+)` \| [^|]+ \| [^|]+ \| (yes|no) \|$",
        (ROOT / "docs" / "inventory-api.md").read_text(),
        re.MULTILINE,
    )
    declared = [
        (column.name, "yes" if column.nullable else "no")
        for built in (inventory_endpoint(), warehouses_endpoint())
        for column in built.spec.endpoint.columns
    ]
    assert declared == rows
    contract = contract_endpoint()
    assert (contract.path, contract.primary_key) == ("/v1/resource", "id")
    assert all(column.description for column in contract.columns)


def test_workspace_and_pyproject_name_the_same_module() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    assert module == pyproject["tool"]["dagster"]["module_name"] == "inventory_assets.definitions"
    assert pyproject["tool"]["dg"]["project"]["root_module"] == "inventory_assets"


def _run_python(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=cwd, capture_output=True, text=True
    )


def test_import_touches_no_home_dir_and_no_network(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise RuntimeError('network used at import')\n"
        "socket.socket.connect = refuse\n"
        "from inventory_assets.definitions import defs\n"
        "defs()\n"
    )
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "RUNTIME__DLTHUB_TELEMETRY": "false"}
    completed = _run_python(script, env, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert list(home.iterdir()) == []


def test_importing_the_code_location_loads_nothing_heavy(tmp_path: Path) -> None:
    """dlt, Arrow, DuckDB, plotting, PostgreSQL drivers and the simulator load when used,
    not when a tool imports the module (loading the definitions does use dlt)."""
    heavy = ["dlt", "pyarrow", "duckdb", "matplotlib", "pandas", "psycopg", "psycopg2"]
    script = (
        "import sys\n"
        "import inventory_assets.definitions\n"
        f"print([m for m in {[*heavy, 'inventory_api_sim']!r} if m in sys.modules])\n"
    )
    env = {"PATH": "/usr/bin:/bin", "RUNTIME__DLTHUB_TELEMETRY": "false"}
    completed = _run_python(script, env, tmp_path)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_the_definitions_are_built_once_per_environment(monkeypatch) -> None:
    """Dagster's CLI asks for them several times a run; a changed setting is a new build."""
    from inventory_assets.definitions import defs as code_location

    first = code_location()
    assert code_location() is first
    monkeypatch.setenv("INVENTORY_PARTITIONS_START", "2026-06-01")
    changed = code_location()
    assert changed is not first
    partitions = changed.resolve_assets_def(INVENTORY_DATA_KEY).partitions_def
    assert partitions.get_first_partition_key() == "2026-06-01"


def test_partitions_start_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("INVENTORY_PARTITIONS_START", "2026-06-01")
    assert settings_from_yaml().partitions_start.isoformat() == "2026-06-01"


# One bad value per setting docs/configuration.md documents: the variable, the field, what is
# accepted.
BAD_SETTINGS = [
    ("INVENTORY_PARTITIONS_START", "garbage", "partitions_start", "YYYY-MM-DD"),
    ("INVENTORY_FRESHNESS_MAX_HOURS", "abc", "freshness.max_hours", "a number"),
    ("INVENTORY_FRESHNESS_DEADLINE_CRON", "every day", "freshness.deadline_cron", "cron"),
    ("INVENTORY_CHANGE_SENSOR_INTERVAL_SECONDS", "abc", "sensors.change_interval_seconds", "whole"),
    ("INVENTORY_FRESHNESS_SENSOR_INTERVAL_SECONDS", "0", "sensors.freshness_interval_seconds", "1"),
    (
        "INVENTORY_AUTOMATION_SENSOR_INTERVAL_SECONDS",
        "1.5",
        "sensors.automation_interval_seconds",
        "whole",
    ),
    ("INVENTORY_DESTINATION", "sqlite", "warehouse.destination", "'duckdb' or 'postgres'"),
    ("INVENTORY_EXECUTOR", "threads", "executor", "'in_process', 'multiprocess' or 'celery'"),
    ("INVENTORY_SYNC_MODE", "sometimes", "endpoints.inventory_data.sync_mode", "'client_window'"),
    ("INVENTORY_PAGE_SIZE", "0", "api.page_size", "greater than or equal to 1"),
    ("INVENTORY_MAX_CONCURRENCY", "many", "api.max_concurrency", "whole"),
    (
        "INVENTORY_WINDOW_START_PARAM",
        "since when",
        "api.window_start_param",
        "expected a query parameter or header name",
    ),
    (
        "INVENTORY_ENDPOINT_PATH",
        "v1/resource",
        "endpoints.inventory_data.path",
        "a path that starts with /",
    ),
    ("INVENTORY_API_POOL", "Vendor API", "api.pool", "expected lower-case letters, digits and _"),
    ("INVENTORY_MAX_REQUESTS_PER_SECOND", "inf", "api.max_requests_per_second", "finite"),
    ("INVENTORY_RATE_LIMIT_PROCESSES", "0", "api.rate_limit_processes", "greater than or equal"),
]


@pytest.mark.parametrize(("variable", "value", "field", "accepted"), BAD_SETTINGS)
def test_a_bad_setting_fails_the_load_with_one_line_naming_it(
    monkeypatch, variable: str, value: str, field: str, accepted: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as caught:
        settings_from_yaml()

    message = str(caught.value)
    assert "\n" not in message
    assert f"{variable}=" in message and value in message
    assert f"({field} in defs.yaml)" in message
    assert accepted in message


def test_a_bad_setting_is_the_last_line_of_a_cli_load(tmp_path: Path) -> None:
    env = {**os.environ, "INVENTORY_PARTITIONS_START": "garbage", "DAGSTER_HOME": str(tmp_path)}
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [dagster, "asset", "materialize", "-m", "inventory_assets.definitions"]
    completed = subprocess.run(
        [*command, "--select", "inventory/inventory_data", "--partition", "2026-11-02"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert completed.returncode != 0
    last = completed.stderr.strip().splitlines()[-1]
    assert "INVENTORY_PARTITIONS_START='garbage' (partitions_start in defs.yaml)" in last, last


def test_deletes_in_window_mode_name_the_settings_that_allow_them(monkeypatch) -> None:
    monkeypatch.setenv("INVENTORY_DELETES", "flag")

    with pytest.raises(SettingsError) as caught:
        settings_from_yaml()

    message = str(caught.value)
    assert "(endpoints.inventory_data in defs.yaml)" in message
    assert "deletes='flag' needs a whole listing" in message
    assert "INVENTORY_SYNC_MODE" in message


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("api_key: sk-literal", "api.api_key"),
        ("auth: {type: bearer, token: tok-literal}", "api.auth.token"),
        ("auth: {type: api_key, name: X-API-Key, api_key: k}", "api.auth.api_key"),
        ("auth: {type: http_basic, username: me, password: pw}", "api.auth.password"),
        (
            "auth: {type: oauth2_client_credentials, access_token_url: 'https://x/t',"
            " client_id: me, client_secret: s}",
            "api.auth.client_secret",
        ),
    ],
)
def test_a_secret_can_only_be_named_never_written(tmp_path: Path, written: str, field: str) -> None:
    text = (PACKAGE / "defs" / "inventory_api" / "defs.yaml").read_text()
    literal = tmp_path / "defs.yaml"
    literal.write_text(text.replace("api_key: {env: INVENTORY_API_KEY}", written))

    with pytest.raises(SettingsError, match=rf"\({field} in defs\.yaml\).*never hold the secret"):
        settings_from_yaml(literal)


def test_dg_check_defs_passes_and_lists_everything(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "VIRTUAL_ENV": str(ROOT / ".venv")}
    dg = str(Path(sys.executable).parent / "dg")
    checked = subprocess.run(
        [dg, "check", "defs"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    listed = subprocess.run(
        [dg, "list", "defs", "--json"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    for name in (
        "inventory/inventory_data",
        "inventory/warehouses",
        "inventory/stock_levels",
        "inventory__inventory_data_ingest_job",
        "inventory__inventory_data_change_sensor",
        "inventory__inventory_data_daily_schedule",
        "rows_match_api",
    ):
        assert name in listed.stdout


# Dagster 1.13 exports its metadata sets only from its metadata package (dagster-dlt imports
# them from there too): the one private import, in the one module that wraps them.
METADATA_SETS = (
    Path("defs/inventory_api/load_metadata.py"),
    "from dagster._core.definitions.metadata import NamespacedMetadataSet, TableMetadataSet\n",
)


def test_product_code_uses_public_apis_and_one_module_reads_the_environment() -> None:
    sources = {path: path.read_text() for path in PACKAGE.rglob("*.py")}
    module, sets_import = METADATA_SETS
    assert sources[PACKAGE / module].count(sets_import) == 1
    sources[PACKAGE / module] = sources[PACKAGE / module].replace(sets_import, "")
    private = [str(path) for path, text in sources.items() if re.search(r"\bdagster\._", text)]
    assert private == []
    reads = re.compile(r"os\.environ|os\.getenv|\.get_value\(")
    readers = {path.relative_to(PACKAGE) for path, text in sources.items() if reads.search(text)}
    assert readers == {Path("settings.py")}, "only the settings layer reads the environment"
    assert warehouses_endpoint().key == WAREHOUSES_KEY
