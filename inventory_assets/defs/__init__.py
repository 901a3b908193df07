"""Dagster definitions, one concept per module; `inventory_assets.definitions` assembles them."""
