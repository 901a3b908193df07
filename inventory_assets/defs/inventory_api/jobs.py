"""Named jobs per endpoint: its ingestion (with its checks) and its reconciliation alone."""

from collections.abc import Sequence
from typing import Any, TypeAlias

from dagster import (
    AssetChecksDefinition,
    AssetKey,
    AssetSelection,
    PartitionsDefinition,
    define_asset_job,
)

# What `define_asset_job` returns: a job resolved once the Definitions are; Dagster
# does not export its class (UnresolvedAssetJobDefinition), so it is named here.
AssetJob: TypeAlias = Any


def ingest_job(
    name: str,
    key: AssetKey,
    checks: Sequence[AssetChecksDefinition],
    partitions_def: PartitionsDefinition | None,
) -> AssetJob:
    """Load the asset and run its checks: quality, reconciliation and partition freshness."""
    return define_asset_job(
        name=f"{name}_ingest_job",
        description=f"Load {key.to_user_string()} and run its checks.",
        selection=AssetSelection.assets(key).without_checks() | AssetSelection.checks(*checks),
        partitions_def=partitions_def,
    )


def reconcile_job(
    name: str, check: AssetChecksDefinition, partitions_def: PartitionsDefinition | None
) -> AssetJob:
    """Compare the warehouse with the API (rows_match_api) without loading anything."""
    return define_asset_job(
        name=f"{name}_reconcile_job",
        description=f"Compare {name} in the warehouse with the API, without loading anything.",
        selection=AssetSelection.checks(check),
        partitions_def=partitions_def,
    )
