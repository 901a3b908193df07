"""Named jobs: ingestion, the downstream refresh, and the reconciliation on its own.

The ingestion job carries the quality checks but not the freshness checks:
those are evaluated by their own sensor, against the clock, not after a load.
"""

from dagster import AssetSelection, define_asset_job

from inventory_assets.defs.checks import quality_checks
from inventory_assets.defs.ingest import INVENTORY_DATA_KEY
from inventory_assets.defs.marts import LOW_STOCK_ITEMS_KEY, STOCK_LEVELS_KEY
from inventory_assets.defs.partitions import daily_partitions
from inventory_assets.defs.reconciliation import rows_match_api

inventory_ingest_job = define_asset_job(
    name="inventory_ingest_job",
    description="Load daily partitions of inventory/inventory_data and run its quality checks.",
    selection=AssetSelection.assets(INVENTORY_DATA_KEY).without_checks()
    | AssetSelection.checks(*quality_checks),
    partitions_def=daily_partitions,
)

inventory_refresh_job = define_asset_job(
    name="inventory_refresh_job",
    description="Recompute stock levels and the low-stock report from the warehouse.",
    selection=AssetSelection.assets(STOCK_LEVELS_KEY, LOW_STOCK_ITEMS_KEY),
)

inventory_reconcile_job = define_asset_job(
    name="inventory_reconcile_job",
    description=(
        "Compare the warehouse with the API for any daily partition (rows_match_api),"
        " without loading anything."
    ),
    selection=AssetSelection.checks(rows_match_api),
    partitions_def=daily_partitions,
)
