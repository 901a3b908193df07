"""One configured endpoint, as every builder of its definitions takes it.

The asset, its checks, its jobs and its sensors are built from the same
`EndpointSpec`: the endpoint as the dlt source describes it (which carries its
sync mode, deletes and rules), the asset key it is loaded under, and the
component instance it belongs to (its resource keys). No builder takes a slice.
"""

from dataclasses import dataclass

from dagster import AssetKey, FreshnessPolicy, TimeWindowPartitionsDefinition

from inventory_assets.defs.inventory_api.resources import ResourceKeys
from inventory_assets.sources.inventory_api import Endpoint


@dataclass(frozen=True)
class EndpointSpec:
    """An endpoint of one component instance: what is loaded, under which key, how often."""

    endpoint: Endpoint
    key: AssetKey
    resources: ResourceKeys
    description: str
    partitions_def: TimeWindowPartitionsDefinition | None
    # None for a partitioned asset: its partition freshness check is the one signal, since
    # an asset-level policy would call it fresh after a backfill of an old partition.
    freshness_policy: FreshnessPolicy | None
    pool: str

    @property
    def group(self) -> str:
        return self.key.path[0]

    @property
    def name(self) -> str:
        """What its ops, jobs and sensors are named after: the key, `<group>__<endpoint>`,
        so two vendors' endpoints of one name never collide."""
        return self.key.to_python_identifier()

    @property
    def windowed(self) -> bool:
        """Whether a run loads one partition's window (every mode but `full`)."""
        return self.partitions_def is not None

    @property
    def whole_listing(self) -> bool:
        """Whether a run pages the whole listing, so it knows every key the vendor has."""
        return self.endpoint.sync_mode != "window"
