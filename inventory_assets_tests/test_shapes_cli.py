"""Each vendor shape and auth from `dagster asset materialize`, configured only in defs.yaml.

A copy of the project whose defs.yaml is the shape's (test_shapes.py holds the
shapes), run as a user runs it: two partitions in one command, then one again.
The rows are exactly the vendor's, the re-run adds nothing, and the secret is
in no file the runs wrote.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inventory_api_sim import InventoryApiSimulator
from inventory_assets_tests import cli_runner
from inventory_assets_tests.cli_runner import ROOT, finish, materialize
from inventory_assets_tests.conftest import (
    CONTRACT_COLUMNS,
    TEST_API_KEY,
    assert_key_in_no_file,
    make_simulator,
    warehouse_rows,
)
from inventory_assets_tests.test_shapes import (
    ALL,
    DAYS,
    KEY_ENV,
    OAUTH2_SIMULATOR,
    PASSWORD_ENV,
    Shape,
    oauth2_shape,
    rows_of,
    write_defs_yaml,
)

pytestmark = pytest.mark.e2e

DEFS_YAML = Path("inventory_assets") / "defs" / "inventory_api" / "defs.yaml"


def _project_of(shape: Shape, root: Path) -> Path:
    """The project's package and pyproject.toml under `root`, with the shape's defs.yaml."""
    shutil.copytree(
        ROOT / "inventory_assets",
        root / "inventory_assets",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    write_defs_yaml(root / DEFS_YAML, shape.defs)
    return root


def _started(name: str) -> tuple[Shape, InventoryApiSimulator]:
    """The shape `name` and its simulator (OAuth2's token URL is the simulator's own)."""
    if name == "oauth2":
        sim = make_simulator(**OAUTH2_SIMULATOR)
        return oauth2_shape(sim.url), sim
    return ALL[name], make_simulator(**ALL[name].simulator)


@pytest.mark.parametrize("name", [*ALL, "oauth2"])
def test_each_shape_loads_two_partitions_from_the_cli_and_a_rerun_adds_nothing(
    name: str, tmp_path: Path
) -> None:
    shape, sim = _started(name)
    try:
        project = _project_of(shape, tmp_path / "project")
        duckdb_path = tmp_path / "data" / "warehouse.duckdb"
        env = {
            **cli_runner.cli_env(sim.url, duckdb_path, tmp_path / "dagster_home"),
            **shape.env,
            KEY_ENV: shape.secret,
            PASSWORD_ENV: TEST_API_KEY,
            "PYTHONPATH": str(project),
        }
        output = finish(
            materialize(env, "--partition-range", f"{DAYS[0]}...{DAYS[1]}", cwd=project)
        )
        assert "RUN_SUCCESS" in output
        assert "Asset check 'rows_match_api' on 'inventory/inventory_data' passed" in output
        loaded = warehouse_rows(duckdb_path, CONTRACT_COLUMNS)
        assert loaded == rows_of(sim, *DAYS)

        finish(materialize(env, "--partition", DAYS[0], cwd=project))

        assert warehouse_rows(duckdb_path, CONTRACT_COLUMNS) == loaded
        auths = ",".join(request["_auth"] for request in sim.requests)
        assert "query" not in auths, "the key goes only where the configuration says"
    finally:
        sim.stop()
    assert_key_in_no_file(tmp_path, secret=TEST_API_KEY)
