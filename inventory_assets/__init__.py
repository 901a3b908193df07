"""inventory_assets: a Dagster code location that keeps a warehouse of inventory data fresh.

`inventory_assets.InventoryApiComponent` is the component `defs.yaml` instantiates,
registered with dg (pyproject's `dagster_dg_cli.registry_modules`). It is imported
when asked for, so importing the package (or `inventory_assets.definitions`) stays
light: dlt and the warehouse libraries load when the definitions are built.
"""

from typing import Any

__all__ = ["InventoryApiComponent"]


def __getattr__(name: str) -> Any:
    if name == "InventoryApiComponent":
        from inventory_assets.defs.inventory_api.component import InventoryApiComponent

        return InventoryApiComponent
    raise AttributeError(f"module 'inventory_assets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
