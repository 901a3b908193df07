"""Named jobs per endpoint: its ingestion (with its checks) and its reconciliation alone."""

from collections.abc import Sequence
from typing import Any, TypeAlias

from dagster import AssetChecksDefinition, AssetSelection, define_asset_job

from inventory_assets.defs.inventory_api.endpoint_spec import EndpointSpec

# What `define_asset_job` returns: a job resolved once the Definitions are; Dagster
# does not export its class (UnresolvedAssetJobDefinition), so it is named here.
AssetJob: TypeAlias = Any


def ingest_job(spec: EndpointSpec, checks: Sequence[AssetChecksDefinition]) -> AssetJob:
    """Load the asset and run its checks: quality, reconciliation and partition freshness."""
    return define_asset_job(
        name=f"{spec.name}_ingest_job",
        description=f"Load {spec.key.to_user_string()} and run its checks.",
        selection=AssetSelection.assets(spec.key).without_checks() | AssetSelection.checks(*checks),
        partitions_def=spec.partitions_def,
    )


def reconcile_job(spec: EndpointSpec, check: AssetChecksDefinition) -> AssetJob:
    """Compare the warehouse with the API (rows_match_api) without loading anything."""
    return define_asset_job(
        name=f"{spec.name}_reconcile_job",
        description=(
            f"Compare {spec.key.to_user_string()} in the warehouse with the API, without"
            " loading anything."
        ),
        selection=AssetSelection.checks(check),
        partitions_def=spec.partitions_def,
    )
