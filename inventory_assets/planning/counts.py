"""The plan's own requests: one cheap request per day for its total, one for the listing's.

Through the vendor's one client, so auth, key masking, retries and the rate
limit are a load's. Each request asks for one record (`limit=1`) with the
day's window, in the parameters a load sends (source.py's `window_params`),
and reads the total where the paginator says (`total_path`). Their mean
latency is what the plan assumes for each of the load's requests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from statistics import mean
from time import perf_counter

from inventory_assets.defs.inventory_api.resources import VendorApiResource
from inventory_assets.planning.plan import BackfillPlan, Counts, LoadShape, PlanError, plan_backfill
from inventory_assets.sources.inventory_api import Endpoint, Window
from inventory_assets.sources.inventory_api.client import VendorClient
from inventory_assets.sources.inventory_api.source import window_params


def require_plannable(endpoint: Endpoint) -> None:
    """Refuse, saying why, an endpoint whose backfill the plan cannot predict."""
    paginator = endpoint.paginator
    if endpoint.sync_mode == "full":
        raise PlanError(
            f"{endpoint.name} is loaded whole (sync_mode full), not by daily partitions: "
            "there is no backfill of days to plan."
        )
    if not paginator.seeks or not paginator.page_size:
        raise PlanError(
            f"{endpoint.name} pages by {paginator.type}, not by offset and limit: the plan "
            "reads each day's total from a one-record page, which needs a limit parameter "
            "and a page size to count pages in."
        )
    if not paginator.total_path:
        raise PlanError(
            f"The plan needs the vendor's total, and {endpoint.name}'s paginator reads none "
            "(total_path is empty): without it a day's size is known only by paging the whole "
            "day. Set total_path (INVENTORY_TOTAL_PATH) to where the pages say it, if they do."
        )


def plan_with(
    vendor_api: VendorApiResource,
    endpoint: Endpoint,
    days: tuple[date, ...],
    max_requests: int | None = None,
) -> BackfillPlan:
    """The plan of loading `days` of `endpoint`, from the vendor's totals and the settings."""
    require_plannable(endpoint)
    vendor_api.checked_base_url(endpoint)
    shape = LoadShape(
        sync_mode=endpoint.sync_mode,
        page_size=endpoint.paginator.page_size,
        max_concurrency=vendor_api.max_concurrency,
        max_requests_per_second=vendor_api.max_requests_per_second,
    )
    counts = count(vendor_api.client(max_retries=1), endpoint, days)
    return plan_backfill(endpoint.name, shape, counts, max_requests)


def count(client: VendorClient, endpoint: Endpoint, days: tuple[date, ...]) -> Counts:
    """The listing's total and, where the vendor windows, each day's, timed."""
    latencies: list[float] = []

    def total(window: Window | None) -> int:
        started, waited = perf_counter(), client.stats.rate_limit_wait_seconds
        page = client.seek(endpoint, window_params(window, client.options), offset=0, limit=1)
        # The vendor's latency, not the wait for the quota (the plan adds that itself).
        waited = client.stats.rate_limit_wait_seconds - waited
        latencies.append(perf_counter() - started - waited)
        if page.total is None:
            raise PlanError(
                f"The vendor's page of {endpoint.path} holds no total at "
                f"{endpoint.paginator.total_path!r}, and the plan needs it to count a day's "
                "records: set total_path (INVENTORY_TOTAL_PATH) to where the pages say it, "
                "or to nothing if they do not (inventory-api-probe shows the pages)."
            )
        return page.total

    listing = total(None)
    windowed = endpoint.sync_mode == "window"
    day_totals = tuple(total(day) for day in range_window(days).days()) if windowed else None
    return Counts(days, day_totals, listing, client.stats.requests, mean(latencies))


def range_window(days: tuple[date, ...]) -> Window:
    """The window of a partition range, `[first day, last day + 1)` in UTC: a load's, which
    cuts it into the same days (`Window.days`)."""
    start = datetime.combine(days[0], time(), tzinfo=UTC)
    end = datetime.combine(days[-1] + timedelta(days=1), time(), tzinfo=UTC)
    return Window(start, end)
