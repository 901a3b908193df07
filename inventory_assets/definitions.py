"""The code location: assembles assets, checks, jobs, sensors and resources; no logic here."""

from dagster import Definitions, EnvVar, map_asset_specs

from inventory_assets.defs.checks import quality_checks
from inventory_assets.defs.destinations import destination_from_env
from inventory_assets.defs.executor import inventory_executor
from inventory_assets.defs.freshness import (
    inventory_data_freshness_policy,
    inventory_freshness_sensor,
    partition_freshness_checks,
)
from inventory_assets.defs.ingest import inventory_api_assets
from inventory_assets.defs.jobs import (
    inventory_ingest_job,
    inventory_reconcile_job,
    inventory_refresh_job,
)
from inventory_assets.defs.marts import low_stock_items, stock_levels
from inventory_assets.defs.resources import DltPipelineResource, InventoryApiResource
from inventory_assets.defs.sensors import (
    inventory_automation_sensor,
    inventory_change_sensor,
    inventory_daily_schedule,
)

# INVENTORY_DESTINATION: DuckDB (default) or PostgreSQL; every asset shows which as its kind.
destination = destination_from_env()

defs = Definitions(
    assets=map_asset_specs(
        destination.label,
        [
            inventory_api_assets.map_asset_specs(
                lambda spec: spec.replace_attributes(
                    freshness_policy=inventory_data_freshness_policy
                )
            ),
            stock_levels,
            low_stock_items,
        ],
    ),
    asset_checks=[*quality_checks, *partition_freshness_checks],
    jobs=[inventory_ingest_job, inventory_refresh_job, inventory_reconcile_job],
    sensors=[inventory_change_sensor, inventory_freshness_sensor, inventory_automation_sensor],
    schedules=[inventory_daily_schedule],
    executor=inventory_executor(),
    resources={
        "inventory_api": InventoryApiResource(
            base_url=EnvVar("INVENTORY_API_BASE_URL"),
            api_key=EnvVar("INVENTORY_API_KEY"),
        ),
        "destination": destination,
        "dlt_pipeline": DltPipelineResource(
            working_dir=EnvVar("INVENTORY_DLT_WORKING_DIR").get_value()
        ),
    },
)
