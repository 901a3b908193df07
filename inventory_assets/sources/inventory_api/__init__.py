"""The inventory API as a dlt REST API source, usable without Dagster.

`inventory_source` (source.py) builds the source of one endpoint for a window
or the whole listing; `contract.py` describes an endpoint and the API's
options (the code location declares its endpoints, in defs.yaml); the rest is
what the source needs to be correct (paging, the page and record checks, the
HTTP layer, the change feed the sensors read). `columnar/` is its speed path:
checked records as typed Arrow batches, checked as columns, their keys kept as
Arrow arrays; it applies the same rules, only cheaper.
"""

from __future__ import annotations

import importlib
from typing import Any

from inventory_assets.sources.inventory_api.contract import (
    ApiOptions,
    Column,
    Endpoint,
)
from inventory_assets.sources.inventory_api.stats import ExtractStats, Rejection
from inventory_assets.sources.inventory_api.windows import Window, to_api_timestamp

__all__ = [
    "SOURCE_NAME",
    "ApiOptions",
    "Column",
    "Endpoint",
    "ExtractStats",
    "Rejection",
    "Window",
    "declared_table",
    "inventory_source",
    "to_api_timestamp",
]

# The source itself needs dlt, its REST API source and Arrow (most of a second to
# import). Importing the package for its settings (as the code location does to
# validate them) does not load them; the first use of these names does.
_IN_SOURCE_MODULE = {"SOURCE_NAME", "declared_table", "inventory_source"}


def __getattr__(name: str) -> Any:
    if name in _IN_SOURCE_MODULE:
        return getattr(importlib.import_module(f"{__name__}.source"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
