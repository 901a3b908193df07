"""`<group>_backfill_plan_job`: the plan `inventory-api-plan` prints, from the UI.

Its run config names the range, the endpoint and an optional request budget;
its output metadata holds the plan as a markdown table and its totals as
numbers, and the run fails, naming the budget, when the load would exceed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from dagster import (
    Config,
    Failure,
    JobDefinition,
    MetadataValue,
    OpExecutionContext,
    Output,
    job,
    op,
)
from pydantic import Field

from inventory_assets.defs.inventory_api.resources import ResourceKeys, VendorApiResource
from inventory_assets.planning.counts import plan_with
from inventory_assets.planning.plan import BackfillPlan, PlanError, days_of, parse_day
from inventory_assets.planning.report import as_markdown, as_text, budget_line
from inventory_assets.sources.inventory_api import Endpoint


class BackfillPlanConfig(Config):
    """The backfill to plan: its days, its endpoint, and the most requests it may make."""

    from_day: str = Field(description="The range's first day, YYYY-MM-DD")
    to_day: str = Field(description="The range's last day (included), YYYY-MM-DD")
    max_requests: int | None = Field(
        default=None, description="Fail the run if the load would make more requests"
    )
    endpoint: str | None = Field(
        default=None, description="An endpoint of defs.yaml; none: the first partitioned one"
    )


def _endpoint(endpoints: Sequence[Endpoint], name: str | None) -> Endpoint:
    """The endpoint the config names, or the instance's first partitioned one."""
    by_name = {endpoint.name: endpoint for endpoint in endpoints}
    if name is None:
        name = next((e.name for e in endpoints if e.sync_mode != "full"), endpoints[0].name)
    if name not in by_name:
        raise Failure(f"No endpoint {name!r} in defs.yaml: give one of {sorted(by_name)}.")
    return by_name[name]


def _metadata(plan: BackfillPlan) -> dict:
    return {
        "plan": MetadataValue.md(as_markdown(plan)),
        "requests": plan.requests,
        "pages": plan.pages,
        "expected_seconds": MetadataValue.float(plan.seconds),
        "flagged_days": [day.day.isoformat() for day in plan.flagged],
        "plan_requests": plan.counts.requests,
    }


def build_backfill_plan_job(
    resources: ResourceKeys, endpoints: Sequence[Endpoint], partitions_start: date
) -> JobDefinition:
    """A job that plans a backfill of one endpoint of one instance, one request a day."""

    @op(name="plan_backfill", description="Asks the vendor what a backfill of the range costs.")
    @resources.injected
    def _plan(
        context: OpExecutionContext, config: BackfillPlanConfig, vendor_api: VendorApiResource
    ) -> Output[None]:
        endpoint = _endpoint(endpoints, config.endpoint)
        try:
            first = parse_day(config.from_day, "from_day")
            last = parse_day(config.to_day, "to_day")
            days = days_of(first, last, partitions_start)
            plan = plan_with(vendor_api, endpoint, days, config.max_requests)
        except PlanError as error:
            raise Failure(str(error)) from None
        context.log.info(as_text(plan))
        if plan.over_budget:
            raise Failure(
                f"{budget_line(plan)} The backfill of {endpoint.name} from {first} to {last} "
                f"would exceed max_requests={plan.max_requests}: narrow the range, or raise "
                "the budget if the vendor's quota allows.",
                metadata=_metadata(plan),
            )
        return Output(None, metadata=_metadata(plan))

    @job(
        name=f"{resources.group}_backfill_plan_job",
        description="What a backfill of a range of days costs: records, requests, time, flags.",
    )
    def _plan_job() -> None:
        _plan()

    return _plan_job
