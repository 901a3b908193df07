"""`inventory_api_probe_job`: the contract probe (`lib/probe.py`) from the UI.

The same report `inventory-api-probe` prints, for each endpoint, in the run's
output metadata; the run fails, naming the settings to change, when the current
ones would not load the vendor correctly.
"""

from collections.abc import Mapping

from dagster import Failure, JobDefinition, MetadataValue, OpExecutionContext, Output, job, op

from inventory_assets.defs.inventory_api.resources import VendorApiResource
from inventory_assets.lib.probe import probe
from inventory_assets.sources.inventory_api import Endpoint


def build_probe_job(endpoints: Mapping[str, tuple[Endpoint, str]]) -> JobDefinition:
    """A job that probes each endpoint (with its sync mode) in at most 20 requests each."""

    @op(name="probe_vendor_api", description="Asks the vendor's API how far it keeps the contract.")
    def _probe(context: OpExecutionContext, vendor_api: VendorApiResource) -> Output[None]:
        metadata, needed = {}, {}
        for name, (endpoint, mode) in endpoints.items():
            report = probe(
                vendor_api.base_url, vendor_api.api_key, endpoint, vendor_api.options(), mode
            )
            context.log.info(f"{name}:\n{report.as_text()}")
            metadata[name] = MetadataValue.md(report.as_markdown())
            needed |= report.needed
        if needed:
            lines = " ".join(f"{key}={value}" for key, value in sorted(needed.items()))
            raise Failure(
                f"The current settings do not load this vendor correctly; set {lines} "
                "(the run's log has the probe's findings)."
            )
        return Output(None, metadata=metadata)

    @job(
        name="inventory_api_probe_job",
        description="The contract probe: what the vendor's API does, and the settings it needs.",
    )
    def _probe_job() -> None:
        _probe()

    return _probe_job
