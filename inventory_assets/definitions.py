"""The code location: assembles assets and resources; no logic lives here."""

from dagster import Definitions, EnvVar

from inventory_assets.defs.ingest import inventory_api_assets
from inventory_assets.defs.resources import (
    DEFAULT_DUCKDB_PATH,
    DltPipelineResource,
    DuckDBDestinationResource,
    InventoryApiResource,
)

defs = Definitions(
    assets=[inventory_api_assets],
    resources={
        "inventory_api": InventoryApiResource(
            base_url=EnvVar("INVENTORY_API_BASE_URL"),
            api_key=EnvVar("INVENTORY_API_KEY"),
        ),
        "destination": DuckDBDestinationResource(
            path=EnvVar("INVENTORY_DUCKDB_PATH").get_value(DEFAULT_DUCKDB_PATH)
            or DEFAULT_DUCKDB_PATH,
        ),
        "dlt_pipeline": DltPipelineResource(),
    },
)
