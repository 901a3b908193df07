"""The layout's rules (docs/layout.md), held by reading the package's imports.

The warehouse (`inventory_assets/warehouse/`) knows no vendor: it takes SQL and
dlt loads from whatever source, so it imports nothing of the vendor's source,
least of all its HTTP layer. What both need (masking a secret in a message)
lives outside either (`inventory_assets/redaction.py`). And there is one
settings layer: the vendor's contract as data is `contract.py`, not a second
`settings.py`.
"""

from __future__ import annotations

from pathlib import Path

from inventory_assets_tests.support import ROOT, imported_modules

PACKAGE = ROOT / "inventory_assets"
WAREHOUSE = PACKAGE / "warehouse"
VENDOR_SOURCE = "inventory_assets.sources"
VENDOR_HTTP = "inventory_assets.sources.inventory_api.http"


def _warehouse_imports() -> dict[str, set[str]]:
    modules = {path.name: imported_modules(path) for path in sorted(WAREHOUSE.glob("*.py"))}
    assert "destination.py" in modules, f"no warehouse package at {WAREHOUSE}"
    return modules


def _importing(prefix: str) -> dict[str, list[str]]:
    """Each warehouse module that imports `prefix` or a module under it, and what it imports."""
    found = {
        name: sorted(m for m in imported if m == prefix or m.startswith(f"{prefix}."))
        for name, imported in _warehouse_imports().items()
    }
    return {name: modules for name, modules in found.items() if modules}


def test_the_warehouse_does_not_import_the_vendors_http_module() -> None:
    assert _importing(VENDOR_HTTP) == {}


def test_the_warehouse_imports_nothing_of_the_vendors_source() -> None:
    assert _importing(VENDOR_SOURCE) == {}


def test_one_module_is_named_settings_py() -> None:
    found = sorted(path.relative_to(PACKAGE) for path in PACKAGE.rglob("settings.py"))
    assert found == [Path("settings.py")]
