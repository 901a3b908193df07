"""`<group>/vendor_contract`: the vendor's behaviour, observed every day and compared.

The asset runs the probe on every endpoint (at most 20 requests each) and
records what the vendor does: auth, the total and what it counts, the page size
honoured, the window and its parameter names, order, timestamps, id type,
unknown and nested fields, rate-limit headers. Its check,
`vendor_behaviour_unchanged`, compares them with the last accepted observation
(probe/watch.py) and, when one changed, fails naming the change and the
settings that now fit, in the probe's words. The accepted behaviours travel in
the asset's own materializations (`accepted_behaviour`): the first observation
is accepted as it is; a change stays failing until a run with
`accept_changes: true` accepts it.

Its schedule runs at 00:05 UTC, before the daily loads (00:15), so a vendor
that changed overnight is reported by the watch rather than by a failed load.
The loads keep their own guards (a vendor ignoring the window is still refused).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    Config,
    DefaultScheduleStatus,
    Failure,
    MaterializeResult,
    MetadataValue,
    ScheduleDefinition,
    asset,
    define_asset_job,
)
from pydantic import Field

from inventory_assets.defs.inventory_api.jobs import AssetJob
from inventory_assets.defs.inventory_api.resources import ResourceKeys, VendorApiResource
from inventory_assets.probe.job import probe_endpoint
from inventory_assets.probe.report import ProbeReport, what_fits
from inventory_assets.probe.watch import Behaviours, Change, accepted_after, changes
from inventory_assets.sources.inventory_api import Endpoint
from inventory_assets.sources.inventory_api.errors import InventoryApiError, explain

CHECK_NAME = "vendor_behaviour_unchanged"
ACCEPTED = "accepted_behaviour"  # the metadata entry that carries the accepted behaviours
WATCH_CRON = "5 0 * * *"  # before the daily loads' 15 0 * * *


class WatchConfig(Config):
    """How one observation is judged."""

    accept_changes: bool = Field(
        default=False,
        description=(
            "Accept the behaviours observed now as the vendor's, once a change was reviewed"
            " (and the settings the check named were changed)."
        ),
    )


@dataclass(frozen=True)
class VendorWatch:
    """The watch of one instance: the asset (with its check), its job and its schedule."""

    asset: AssetsDefinition
    job: AssetJob
    schedule: ScheduleDefinition


def build_vendor_watch(
    resources: ResourceKeys, endpoints: Sequence[Endpoint], pool: str
) -> VendorWatch:
    """The `<group>/vendor_contract` asset over these endpoints, its job and its schedule."""
    group = resources.group
    key = AssetKey([group, "vendor_contract"])

    @asset(
        key=key,
        group_name=group,
        pool=pool,
        kinds={"api"},
        description=(
            "What the vendor's API does (auth, total, page size, window, order, types, fields,"
            " rate limits), observed by the probe; its check fails when that changes."
        ),
        check_specs=[
            AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                description="The vendor behaves as when it was last accepted.",
                # A change fails the run too, so `dagster asset materialize` exits 1 on it.
                blocking=True,
            )
        ],
    )
    @resources.injected
    def _vendor_contract(
        context: AssetExecutionContext, config: WatchConfig, vendor_api: VendorApiResource
    ) -> Iterator[MaterializeResult]:
        reports = {endpoint.name: _probed(vendor_api, endpoint) for endpoint in endpoints}
        observed = {name: report.behaviours() for name, report in reports.items()}
        accepted = _last_accepted(context, key)
        found = changes(accepted, observed)
        passed, description = _judged(accepted, found, reports, config.accept_changes, key)
        (context.log.info if passed else context.log.error)(description)
        if accepted or passed:
            accepted = accepted_after(accepted, observed, found, config.accept_changes)
        listed = MetadataValue.json([str(change) for change in found])
        check = AssetCheckResult(
            check_name=CHECK_NAME,
            passed=passed,
            severity=AssetCheckSeverity.ERROR,
            description=description,
            metadata={"changes": listed},
        )
        metadata = {**_metadata(reports, accepted), "changes": listed}
        yield MaterializeResult(metadata=metadata, check_results=[check])

    job = define_asset_job(
        name=f"{group}_vendor_contract_job",
        description=f"Observe the vendor's behaviour ({key.to_user_string()}) and compare it.",
        selection=AssetSelection.assets(key),
    )
    schedule = ScheduleDefinition(
        name=f"{group}_vendor_contract_schedule",
        cron_schedule=WATCH_CRON,
        execution_timezone="UTC",
        job=job,
        default_status=DefaultScheduleStatus.STOPPED,
        description="The vendor watch, daily before the loads.",
    )
    return VendorWatch(_vendor_contract, job, schedule)


def _probed(vendor_api: VendorApiResource, endpoint: Endpoint) -> ProbeReport:
    """The probe's report, or one line saying the vendor could not be asked."""
    try:
        return probe_endpoint(vendor_api, endpoint)
    except (requests.RequestException, InventoryApiError) as error:
        explained = explain(error, vendor_api.base_url, 1) or error
        raise Failure(
            f"The vendor watch could not ask the vendor about {endpoint.name}: {explained}"
            " Nothing was compared; the accepted behaviours stand."
        ) from None


def _last_accepted(context: AssetExecutionContext, key: AssetKey) -> Behaviours:
    """The behaviours the last materialization accepted; empty for the first one."""
    event = context.instance.get_latest_materialization_event(key)
    materialization = event.asset_materialization if event else None
    entry = materialization.metadata.get(ACCEPTED) if materialization else None
    return entry.value if entry is not None else {}


def _judged(
    accepted: Behaviours,
    found: list[Change],
    reports: dict[str, ProbeReport],
    accept: bool,
    key: AssetKey,
) -> tuple[bool, str]:
    """Whether the check passes, and what it says.

    The first observation becomes the accepted one only if the current settings
    load the vendor (or it is accepted explicitly): a vendor already refusing the
    key must not become the baseline that every later run is compared with.
    """
    how_to_accept = (
        f"accept the change: materialize {key.to_user_string()} with the run config"
        f" ops: {{{key.to_python_identifier()}: {{config: {{accept_changes: true}}}}}}."
    )
    if not accepted:
        if accept or all(report.loads_correctly for report in reports.values()):
            return True, "The first observation of the vendor, accepted as its behaviour."
        return False, (
            "No behaviour accepted yet, and the current settings do not load this vendor."
            f" {what_fits(reports)} Once they fit, run the watch again, or {how_to_accept}"
        )
    if not found:
        return True, "The vendor behaves as accepted."
    what = "; ".join(str(change) for change in found)
    if accept:
        return True, f"Accepted as the vendor's behaviour from now on: {what}."
    changed = {change.endpoint for change in found}
    fits = what_fits({name: r for name, r in reports.items() if name in changed})
    return False, (
        f"The vendor's behaviour changed: {what}. {fits} Once the settings fit, {how_to_accept}"
    )


def _metadata(reports: dict[str, ProbeReport], accepted: Behaviours) -> dict[str, Any]:
    """Each behaviour as its own entry, the reports, and the accepted behaviours."""
    behaviours = {
        f"{name} / {check}": MetadataValue.text(behaviour)
        for name, report in reports.items()
        for check, behaviour in report.behaviours().items()
    }
    return {
        **behaviours,
        **{f"report / {name}": MetadataValue.md(r.as_markdown()) for name, r in reports.items()},
        "requests": sum(report.requests for report in reports.values()),
        "loads_correctly": all(report.loads_correctly for report in reports.values()),
        ACCEPTED: MetadataValue.json(accepted),
    }
