"""inventory_assets: a Dagster code location that keeps a warehouse of inventory data fresh."""
