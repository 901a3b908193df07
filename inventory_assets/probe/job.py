"""`<group>_api_probe_job`: the contract probe (behaviour.py) from the UI.

The same report `inventory-api-probe` prints, for each endpoint, in the run's
output metadata; the run fails, naming the settings to change, when the current
ones would not load the vendor correctly. `probe_endpoint` is how a run probes
(this job, and the vendor watch).
"""

from collections.abc import Sequence

from dagster import Failure, JobDefinition, MetadataValue, OpExecutionContext, Output, job, op

from inventory_assets.defs.inventory_api.resources import ResourceKeys, VendorApiResource
from inventory_assets.probe.behaviour import probe
from inventory_assets.probe.report import ProbeReport, what_fits
from inventory_assets.sources.inventory_api import Endpoint


def probe_endpoint(vendor_api: VendorApiResource, endpoint: Endpoint) -> ProbeReport:
    """The probe of one endpoint with a run's vendor resource: one try per request, so a
    vendor that fails is reported, not waited out."""
    vendor_api.checked_base_url(endpoint)
    client = vendor_api.client(max_retries=1)
    return probe(client, endpoint, endpoint.sync_mode, vendor_api.auth_as_written())


def build_probe_job(resources: ResourceKeys, endpoints: Sequence[Endpoint]) -> JobDefinition:
    """A job that probes each endpoint of one instance in at most 20 requests each."""

    @op(name="probe_vendor_api", description="Asks the vendor's API how far it keeps the contract.")
    @resources.injected
    def _probe(context: OpExecutionContext, vendor_api: VendorApiResource) -> Output[None]:
        reports = {endpoint.name: probe_endpoint(vendor_api, endpoint) for endpoint in endpoints}
        metadata = {}
        for name, report in reports.items():
            context.log.info(f"{name}:\n{report.as_text()}")
            metadata[name] = MetadataValue.md(report.as_markdown())
        if not all(report.loads_correctly for report in reports.values()):
            raise Failure(
                f"The current settings do not load this vendor correctly. {what_fits(reports)}",
                metadata=metadata,
            )
        return Output(None, metadata=metadata)

    @job(
        name=f"{resources.group}_api_probe_job",
        description="The contract probe: what the vendor's API does, and the settings it needs.",
    )
    def _probe_job() -> None:
        _probe()

    return _probe_job
