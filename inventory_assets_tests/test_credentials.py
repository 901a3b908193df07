"""Where the vendor's secrets come from: Dagster's `EnvVar`, else dlt's config providers.

The order of precedence, as the docs state it: the variable defs.yaml names
(`INVENTORY_API_KEY`), then dlt's environment name (`SOURCES__INVENTORY_API__API_KEY`),
then `.dlt/secrets.toml`'s `[sources.inventory_api]` where the code runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, EnvVar, Failure, materialize

from inventory_assets.defs.inventory_api.resources import vendor_api_resource
from inventory_assets_tests.conftest import (
    TEST_API_KEY,
    day_window,
    expected_records,
    inventory_endpoint,
    make_resources,
    settings_for,
    warehouse_rows,
)

DAY = "2026-11-02"
DLT_KEY_ENV = "SOURCES__INVENTORY_API__API_KEY"


def _load(simulator, duckdb_path: Path, tmp_path: Path, vendor_api) -> list[int]:
    """Materialize DAY with this vendor resource; the ids that landed."""
    resources = {
        **make_resources(simulator.url, duckdb_path, tmp_path),
        "inventory_vendor_api": vendor_api,
    }
    with DagsterInstance.ephemeral() as instance:
        materialize(
            [inventory_endpoint().assets], resources=resources, partition_key=DAY, instance=instance
        )
    return [row[0] for row in warehouse_rows(duckdb_path, "id")]


def test_the_variable_defs_yaml_names_is_an_env_var_first(monkeypatch) -> None:
    monkeypatch.setenv("INVENTORY_API_KEY", TEST_API_KEY)
    monkeypatch.setenv(DLT_KEY_ENV, "not-this-one")
    resource = vendor_api_resource(settings_for({}).api)
    assert resource.api_key == EnvVar("INVENTORY_API_KEY")


def test_unset_the_key_comes_from_dlts_environment_name(
    simulator, duckdb_path: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("INVENTORY_API_KEY", raising=False)
    monkeypatch.setenv(DLT_KEY_ENV, TEST_API_KEY)
    resource = vendor_api_resource(settings_for({}).api, base_url=simulator.url)
    assert resource.api_key is None, "resolved at run time, through dlt"

    ids = _load(simulator, duckdb_path, tmp_path, resource)

    assert ids == [record["id"] for record in expected_records(simulator, *day_window(DAY))]


def test_no_key_anywhere_fails_naming_every_place_to_set_it(monkeypatch) -> None:
    monkeypatch.delenv(DLT_KEY_ENV, raising=False)
    resource = vendor_api_resource(
        settings_for({}).api, base_url="http://127.0.0.1:1", api_key=None
    )
    with pytest.raises(Failure) as failure:
        resource.credentials()
    message = str(failure.value.description)
    for place in (
        "INVENTORY_API_KEY",
        DLT_KEY_ENV,
        "sources.inventory_api.api_key",
        "secrets.toml",
    ):
        assert place in message
    assert "\n" not in message


LOAD_FROM_SECRETS_TOML = """
import json, sys
from dagster import DagsterInstance, materialize
from inventory_assets.defs.inventory_api.resources import vendor_api_resource
from inventory_assets_tests.conftest import inventory_endpoint, make_resources, settings_for
from pathlib import Path

url, database, work = sys.argv[1:4]
resource = vendor_api_resource(settings_for({}).api, base_url=url)
resources = {**make_resources(url, Path(database), Path(work)), "inventory_vendor_api": resource}
with DagsterInstance.ephemeral() as instance:
    result = materialize([inventory_endpoint().assets], resources=resources,
                         partition_key="2026-11-02", instance=instance)
print(json.dumps({"from_dlt": resource.api_key is None, "success": result.success}))
"""


def test_unset_the_key_comes_from_dlt_secrets_toml_where_the_code_runs(
    simulator, duckdb_path: Path, tmp_path: Path
) -> None:
    """As the vendor's integration guide keeps it: `.dlt/secrets.toml`, in a fresh process
    whose working directory holds it (dlt reads its providers once per process)."""
    project = tmp_path / "project"
    (project / ".dlt").mkdir(parents=True)
    (project / ".dlt" / "secrets.toml").write_text(
        f'[sources.inventory_api]\napi_key = "{TEST_API_KEY}"\n'
    )
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("INVENTORY_", "SOURCES__"))
    }
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    arguments = [simulator.url, str(duckdb_path), str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-c", LOAD_FROM_SECRETS_TOML, *arguments],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"from_dlt": True, "success": True}
    ids = [row[0] for row in warehouse_rows(duckdb_path, "id")]
    assert ids == [record["id"] for record in expected_records(simulator, *day_window(DAY))]
    assert TEST_API_KEY not in done.stdout + done.stderr
