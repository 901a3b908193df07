"""The code location loads, names what the README says, and imports without side effects."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from dagster import (
    AssetKey,
    BackfillPolicy,
    DailyPartitionsDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    EnvVar,
)

from inventory_assets.definitions import defs
from inventory_assets.defs.ingest import inventory_api_assets
from inventory_assets.sources.inventory_api import inventory_source

ROOT = Path(__file__).resolve().parents[1]


INVENTORY_DATA = AssetKey(["inventory", "inventory_data"])
STOCK_LEVELS = AssetKey(["inventory", "stock_levels"])
LOW_STOCK_ITEMS = AssetKey(["inventory", "low_stock_items"])


def test_inventory_data_spec_snapshot() -> None:
    graph = defs.resolve_asset_graph()
    key = INVENTORY_DATA

    assert set(graph.get_all_asset_keys()) == {INVENTORY_DATA, STOCK_LEVELS, LOW_STOCK_ITEMS}
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
    assert node.freshness_policy is not None


def test_downstream_and_checks_snapshot() -> None:
    graph = defs.resolve_asset_graph()
    assert graph.get(STOCK_LEVELS).parent_keys == {INVENTORY_DATA}
    assert graph.get(LOW_STOCK_ITEMS).parent_keys == {STOCK_LEVELS}
    for key in (STOCK_LEVELS, LOW_STOCK_ITEMS):
        node = graph.get(key)
        assert node.group_name == "inventory"
        assert node.partitions_def is None
        assert node.automation_condition is not None
    checks = {key.name: key for key in graph.asset_check_keys}
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
    assert all(key.asset_key == INVENTORY_DATA for key in checks.values())
    blocking = {name for name, key in checks.items() if graph.get(key).blocking}
    assert blocking == {"id_is_unique", "required_columns_not_null", "quantity_not_negative"}


def test_jobs_sensors_and_schedule_snapshot() -> None:
    ingest = defs.resolve_job_def("inventory_ingest_job")
    ingest_checks = {key.name for key in ingest.asset_layer.asset_graph.asset_check_keys}
    assert "freshness_check" not in ingest_checks, "freshness is evaluated by its own sensor"
    assert ingest.partitions_def is not None
    refresh = defs.resolve_job_def("inventory_refresh_job")
    assert refresh.asset_layer.executable_asset_keys == {STOCK_LEVELS, LOW_STOCK_ITEMS}

    statuses = {s.name: s.default_status for s in defs.sensors}
    assert statuses == {
        "inventory_change_sensor": DefaultSensorStatus.STOPPED,
        "inventory_freshness_sensor": DefaultSensorStatus.RUNNING,
        "inventory_automation_sensor": DefaultSensorStatus.RUNNING,
    }
    (schedule,) = defs.schedules
    assert schedule.name == "inventory_daily_schedule"
    assert schedule.default_status == DefaultScheduleStatus.STOPPED


def test_resources_take_url_and_key_from_the_environment() -> None:
    api = defs.resources["inventory_api"]
    assert api.base_url == EnvVar("INVENTORY_API_BASE_URL")
    assert api.api_key == EnvVar("INVENTORY_API_KEY")
    assert isinstance(api.api_key, EnvVar), "the key must never be a literal in code"


def test_spec_source_and_run_time_source_expose_the_same_resources() -> None:
    run_time = inventory_source("http://127.0.0.1:1", "key")
    spec_keys = {spec.key for spec in inventory_api_assets.specs}
    assert set(run_time.resources) == {"inventory_data"}
    assert spec_keys == {AssetKey(["inventory", name]) for name in run_time.resources}


def test_workspace_and_pyproject_name_the_same_module() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    assert module == pyproject["tool"]["dagster"]["module_name"] == "inventory_assets.definitions"


def test_import_touches_no_home_dir_and_no_network(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise RuntimeError('network used at import')\n"
        "socket.socket.connect = refuse\n"
        "import inventory_assets.definitions\n"
    )
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "RUNTIME__DLTHUB_TELEMETRY": "false"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=tmp_path)
    assert list(home.iterdir()) == []


def test_partitions_start_comes_from_the_environment(tmp_path: Path) -> None:
    script = (
        "from inventory_assets.defs.partitions import daily_partitions\n"
        "print(daily_partitions.start.date())\n"
    )
    env = {"PATH": "/usr/bin:/bin", "INVENTORY_PARTITIONS_START": "2026-06-01"}
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "2026-06-01"
