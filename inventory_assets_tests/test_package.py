"""The package as installed from its wheel, away from the checkout (docs/packaging.md).

The wheel is built from a copy of what deploy/Dockerfile copies (no stale `build/`
of the checkout), and installed with `--no-deps` into a fresh virtualenv that sees
the project's installed dependencies through a `.pth` file, so nothing is downloaded
again. The definitions are then loaded from an empty directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from inventory_assets_tests import cli_runner
from inventory_assets_tests.cli_runner import INVENTORY_DATA

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
# What the wheel is built from: the files deploy/Dockerfile copies for it.
WHEEL_SOURCES = ("pyproject.toml", "setup.cfg", "README.md", "inventory_assets")
DEFS_YAML = "inventory_assets/defs/inventory_api/defs.yaml"
STEP_TIMEOUT_SECONDS = 120

LIST_DEFINITIONS = """\
import json
import inventory_assets.definitions as module
from inventory_assets.settings import DEFS_YAML

defs = module.defs()
keys = defs.resolve_asset_graph().get_all_asset_keys()
print(json.dumps({
    "module": module.__file__,
    "defs_yaml": str(DEFS_YAML),
    "assets": sorted(key.to_user_string() for key in keys),
    "jobs": sorted(job.name for job in defs.jobs or []),
}))
"""


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_SECONDS,
        **kwargs,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    return completed


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in WHEEL_SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(origin, source / name)
    dist = tmp_path / "dist"
    # The project's own setuptools builds it: no build environment to download.
    _run(
        *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"),
        *("--wheel-dir", dist, source),
    )
    (wheel,) = dist.glob("inventory_assets-*.whl")
    return wheel


def _fresh_venv(target: Path) -> Path:
    """A virtualenv without the project, seeing this interpreter's installed packages
    (a `.pth` file lists their directories; the editable install's own `.pth` is not
    run from there, so the checkout stays out of sight)."""
    venv.create(target, with_pip=False)
    paths = {"base": str(target), "platbase": str(target)}
    site = Path(sysconfig.get_path("purelib", vars=paths))
    ours = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    (site / "zz_project_dependencies.pth").write_text("\n".join(ours) + "\n")
    return target / "bin" / "python"


def test_the_wheel_installs_and_loads_the_definitions_away_from_the_checkout(
    simulator, duckdb_path: Path, tmp_path: Path
) -> None:
    wheel = _build_wheel(tmp_path)
    assert DEFS_YAML in zipfile.ZipFile(wheel).namelist(), "defs.yaml ships as package data"

    target = tmp_path / "venv"
    python = _fresh_venv(target)
    _run(
        *(sys.executable, "-m", "pip", "--python", python, "install", "--quiet"),
        *("--no-deps", "--no-index", wheel),
    )

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = cli_runner.cli_env(simulator.url, duckdb_path, tmp_path / "dagster_home")
    for name in ("PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    env["PATH"] = f"{target / 'bin'}:/usr/bin:/bin"
    listed = json.loads(_run(python, "-c", LIST_DEFINITIONS, cwd=workdir, env=env).stdout)

    module = Path(listed["module"])
    assert module.is_relative_to(target), f"imported {module}, not the installed package"
    assert not module.is_relative_to(ROOT)
    assert Path(listed["defs_yaml"]).is_relative_to(target)
    assert INVENTORY_DATA in listed["assets"]
    assert "inventory__inventory_data_ingest_job" in listed["jobs"]
    assert list(workdir.iterdir()) == [], "loading the definitions writes nothing to the cwd"
