"""Dagster definitions: the inventory_api component (its defs.yaml) and the marts.

`load_from_defs_folder` loads this folder; `inventory_assets.definitions` applies
the shared policy.
"""
