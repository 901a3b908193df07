"""The test helpers: no import cycle among them, and conftest builds nothing on import."""

from __future__ import annotations

import subprocess
import sys

from inventory_assets_tests.support import ROOT, imported_modules

TESTS = ROOT / "inventory_assets_tests"
PACKAGE = "inventory_assets_tests"


def _helper_imports() -> dict[str, set[str]]:
    """Each helper module (not a test module) and the helper modules it imports, at any depth
    of its code (an import inside a function counts too)."""
    helpers = {
        path.stem: path
        for path in TESTS.glob("*.py")
        if not path.stem.startswith("test_") and path.stem != "__init__"
    }
    graph: dict[str, set[str]] = {}
    for name, path in helpers.items():
        graph[name] = {
            module.split(".")[1]
            for module in imported_modules(path)
            if module.startswith(f"{PACKAGE}.") and module.split(".")[1] in helpers
        }
    return graph


def test_the_test_helpers_import_each_other_without_a_cycle() -> None:
    graph = _helper_imports()

    def cycle_from(start: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        for imported in sorted(graph[path[-1]]):
            if imported == start:
                return (*path, imported)
            if imported not in path:
                found = cycle_from(start, (*path, imported))
                if found:
                    return found
        return None

    cycles = [cycle for name in graph if (cycle := cycle_from(name, (name,)))]
    assert cycles == [], " ; ".join(" -> ".join(cycle) for cycle in cycles)
    assert graph["support"] == set(), "support imports no other test module"


# Everything that builds the code location, its settings or a simulator, made to fail:
# importing conftest must still work, i.e. it calls none of them at import time.
IMPORT_CONFTEST_WITH_BUILDERS_BROKEN = """
import inventory_api_sim
import inventory_assets.definitions
import inventory_assets.defs.inventory_api.component as component
import inventory_assets.settings as settings

def broken(*args, **kwargs):
    raise AssertionError("built at import time")

inventory_assets.definitions.defs = broken
component.build_endpoints = broken
settings.settings_from_yaml = broken
inventory_api_sim.InventoryApiSimulator.start = broken

import inventory_assets_tests.conftest as conftest
assert conftest.code_location is broken and conftest.build_endpoints is broken
print("imported")
"""


def test_importing_conftest_builds_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_CONFTEST_WITH_BUILDERS_BROKEN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "imported"
