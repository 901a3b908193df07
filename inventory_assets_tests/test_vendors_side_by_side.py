"""Two vendors in one code location: the shipped instance and one `dg scaffold defs` adds.

Loaded with dg's own sandbox, as `dg` loads a project's defs folder, and run for
real: each instance against its own simulator, into one DuckDB file, two datasets.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import AssetKey, DagsterInstance, Definitions
from dagster.components.testing import create_defs_folder_sandbox

from inventory_assets import InventoryApiComponent
from inventory_assets.settings import DEFS_YAML, SettingsError, variables_read
from inventory_assets_tests.conftest import (
    SIM_START,
    TEST_API_KEY,
    day_window,
    expected_records,
    make_simulator,
    no_inventory_environment,
)
from inventory_assets_tests.support import ROOT
from inventory_assets_tests.test_component import DG

DAY = SIM_START.isoformat()


def _two_vendors(sandbox) -> Path:
    """The shipped instance at inventory_api/, and acme scaffolded at vendors/acme/."""
    sandbox.scaffold_component(
        InventoryApiComponent,
        defs_path="inventory_api",
        defs_yaml_contents=yaml.safe_load(DEFS_YAML.read_text()),
    )
    return sandbox.scaffold_component(InventoryApiComponent, defs_path="vendors/acme")


def test_the_scaffolded_vendor_has_its_own_names_variables_and_pool(tmp_path: Path) -> None:
    with create_defs_folder_sandbox() as sandbox:
        document = yaml.safe_load((_two_vendors(sandbox) / "defs.yaml").read_text())
    attributes = document["attributes"]
    assert document["type"] == "inventory_assets.InventoryApiComponent"
    assert attributes["group"] == "acme"
    assert attributes["api"]["base_url"] == {"env": "ACME_API_BASE_URL"}
    assert attributes["api"]["api_key"] == {"env": "ACME_API_KEY"}
    assert "acme_api_calls" in attributes["api"]["pool"]
    # The warehouse is the code location's; the vendor's requirements are what it reads.
    assert attributes["warehouse"]["duckdb_path"] == "{{ env.INVENTORY_DUCKDB_PATH }}"
    assert sorted(document["requirements"]["env"]) == sorted(variables_read(attributes))


def test_two_vendors_load_side_by_side_and_each_loads_its_own_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped, acme = make_simulator(seed=7), make_simulator(seed=11, rows=400)
    duckdb_path = tmp_path / "warehouse.duckdb"
    with no_inventory_environment():
        for name, value in {
            "INVENTORY_API_BASE_URL": shipped.url,
            "INVENTORY_API_KEY": TEST_API_KEY,
            "ACME_API_BASE_URL": acme.url,
            "ACME_API_KEY": TEST_API_KEY,
            "INVENTORY_DUCKDB_PATH": str(duckdb_path),
            "INVENTORY_DLT_WORKING_DIR": str(tmp_path / "dlt"),
        }.items():
            monkeypatch.setenv(name, value)
        try:
            with create_defs_folder_sandbox() as sandbox:
                _two_vendors(sandbox)
                with sandbox.build_all_defs() as defs:
                    _assert_apart(defs)
                    _load_both(defs)
        finally:
            shipped.stop()
            acme.stop()
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        for dataset, sim in (("inventory", shipped), ("acme", acme)):
            ids = {
                id_ for (id_,) in con.execute(f"select id from {dataset}.inventory_data").fetchall()
            }
            assert ids == {record["id"] for record in expected_records(sim, *day_window(DAY))}
        (acme_stock,) = con.execute("select sum(records) from acme.stock_levels").fetchone()
    assert acme_stock == len(expected_records(acme, *day_window(DAY)))


def _assert_apart(defs: Definitions) -> None:
    """Keys, jobs, sensors, pools and resources are each vendor's own."""
    keys = set(defs.resolve_all_asset_keys())
    for group in ("inventory", "acme"):
        assert {AssetKey([group, "inventory_data"]), AssetKey([group, "stock_levels"])} <= keys
        assert defs.resolve_sensor_def(f"{group}_automation_sensor")
        assert defs.resolve_job_def(f"{group}__inventory_data_ingest_job")
        assert defs.resolve_job_def(f"{group}_api_probe_job")
        assert defs.resolve_job_def(f"{group}_backfill_plan_job")
    loads = defs.resolve_assets_def(AssetKey(["acme", "inventory_data"]))
    assert loads.required_resource_keys - {"io_manager"} == {
        "acme_vendor_api",
        "acme_destination",
        "acme_dlt_working_dir",
    }
    assert loads.node_def.pools == {"acme_api_calls"}


def _load_both(defs: Definitions) -> None:
    with DagsterInstance.ephemeral() as instance:
        for job in ("inventory__inventory_data_ingest_job", "acme__inventory_data_ingest_job"):
            run = defs.resolve_job_def(job).execute_in_process(partition_key=DAY, instance=instance)
            assert run.success, job
        refresh = defs.resolve_job_def("acme_refresh_job").execute_in_process(instance=instance)
        assert refresh.success


def test_dg_scaffold_defs_writes_a_vendor_that_dg_checks(tmp_path: Path) -> None:
    """`dg scaffold defs` as a user types it, in a copy of the project; then `dg check yaml`."""
    project = tmp_path / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(".*", "data", "__pycache__", "*.duckdb", "*.egg-info"),
    )
    scaffold = [DG, "scaffold", "defs", "inventory_assets.InventoryApiComponent", "vendors/acme"]
    subprocess.run(scaffold, cwd=project, check=True, capture_output=True)
    written = project / "inventory_assets" / "defs" / "vendors" / "acme" / "defs.yaml"
    assert yaml.safe_load(written.read_text())["attributes"]["group"] == "acme"
    checked = subprocess.run(
        [DG, "check", "yaml"], cwd=project, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_group_that_is_no_name_is_refused_in_one_line() -> None:
    with (
        create_defs_folder_sandbox() as sandbox,
        pytest.raises(SettingsError, match="The group 'Acme-Corp' does not match"),
    ):
        sandbox.scaffold_component(InventoryApiComponent, defs_path="vendors/Acme-Corp")
