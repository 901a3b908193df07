"""Dagster definitions: the inventory_api component (its defs.yaml), marts included.

`inventory_assets.definitions` loads this folder as a module (what
`load_from_defs_folder` does, without needing the checkout's pyproject.toml) and
applies the shared policy.
"""
