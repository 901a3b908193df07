"""The plan of a backfill: each day's total in; the pages, requests and time of its load out.

Pure: the vendor is asked in counts.py, so every number here follows from given
totals, and the tests check the arithmetic without a server. It predicts what
the load does (sources/inventory_api, loading.py):

- Offset paging of `P` records a page over a window whose total is `T` takes
  `T // P + 1` requests (paging.py's `InventoryPaginator`): a short page ends
  the window, a full last page is followed by one empty page, an empty window
  is one request.
- A partition range loads in one run. In `window` mode with `max_concurrency`
  above 1 it is cut into daily sub-windows (source.py's `split_daily`) that
  dlt's extract workers page that many at a time; with 1, it is one window
  over the whole range, whose total is the days' sum.
- In `client_window` mode the run pages the whole listing once, however many
  days the range holds, and keeps each day's records itself: a day's own count
  is unknown before the load.
- The time is the larger of two bounds: the rate limit's (the limiter lets the
  quota's whole number of requests through per window of 1.05 s: the last
  window opens after ceil(requests / quota) - 1 of them, rate_limit.py) and
  the latency's (requests x latency / windows in flight, and never less than
  the longest window's requests one after another).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from inventory_assets.sources.inventory_api.rate_limit import window_of

# An empty day is suspect only beside days with at least this many records: on a
# quiet listing, a day without changes is ordinary.
BUSY_NEIGHBOUR = 10


class PlanError(ValueError):
    """A plan that cannot be made as asked; the message says why and what to do."""


@dataclass(frozen=True)
class LoadShape:
    """How the load pages, from the settings in force."""

    sync_mode: str  # window or client_window
    page_size: int
    max_concurrency: int
    max_requests_per_second: float | None  # this process's share of the quota; None: no limit


@dataclass(frozen=True)
class Counts:
    """What the plan's own requests found."""

    days: tuple[date, ...]
    day_totals: tuple[int, ...] | None  # None: a client_window vendor has no windowed total
    listing_total: int  # the unwindowed listing's total
    requests: int  # the plan's own, retries included
    latency_seconds: float  # the mean of the plan's own requests


@dataclass(frozen=True)
class DayPlan:
    """One partition: its records, the pages and requests of its window, what looks wrong."""

    day: date
    records: int | None  # None: unknown before the load (client_window)
    pages: int | None
    requests: int | None
    flag: str = ""


@dataclass(frozen=True)
class BackfillPlan:
    """What a load of the range will cost, and the days whose totals look wrong."""

    endpoint: str
    shape: LoadShape
    counts: Counts
    days: tuple[DayPlan, ...]
    windows: int  # the windows the load pages: daily sub-windows, or one
    pages: int  # pages holding records
    requests: int  # the load's requests: pages, and the one that shows each window's end
    seconds: float
    bound: str  # what bounds the time: "rate limit" or "latency"
    max_requests: int | None = None  # the budget; None: none

    @property
    def over_budget(self) -> bool:
        return self.max_requests is not None and self.requests > self.max_requests

    @property
    def flagged(self) -> tuple[DayPlan, ...]:
        return tuple(day for day in self.days if day.flag)


def parse_day(text: str, name: str) -> date:
    """A day as the command line or the job's config gives it, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PlanError(f"{name} {text!r} is not a day: give YYYY-MM-DD.") from None


def days_of(first: date, last: date, partitions_start: date) -> tuple[date, ...]:
    """The partitions of the range `first`..`last`, both included."""
    if last < first:
        raise PlanError(
            f"The range starts on {first}, after its last day {last}: give the first day, "
            "then the last."
        )
    if first < partitions_start:
        raise PlanError(
            f"{first} is before the first partition, {partitions_start} (partitions_start in "
            "defs.yaml): start the range on or after it."
        )
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def requests_for(total: int, page_size: int) -> int:
    """The requests of a window of `total` records: its pages, and the one showing its end."""
    return total // page_size + 1


def pages_for(total: int, page_size: int) -> int:
    """The pages that hold the `total` records of a window."""
    return -(-total // page_size)


def expected_seconds(
    window_requests: list[int], concurrency: int, latency: float, rate: float | None
) -> tuple[float, str]:
    """The time of the windows' requests, and which bound sets it."""
    requests = sum(window_requests)
    in_flight = max(1, min(concurrency, len(window_requests)))
    by_latency = max(requests * latency / in_flight, max(window_requests, default=0) * latency)
    by_rate = _by_rate(requests, rate) if rate else 0.0
    return (by_rate, "rate limit") if by_rate > by_latency else (by_latency, "latency")


def _by_rate(requests: int, rate: float) -> float:
    """When the last of `requests` may go out under the limiter at `rate`."""
    burst, window = window_of(rate)
    return (-(-requests // burst) - 1) * window


def flag(totals: tuple[int, ...], index: int, listing_total: int) -> str:
    """Why the day's total looks wrong, or "" if it does not."""
    total = totals[index]
    if listing_total and total == listing_total:
        return (
            f"equals the whole listing's total ({listing_total}): the vendor ignores the "
            "window, or its total does"
        )
    neighbours = [totals[i] for i in (index - 1, index + 1) if 0 <= i < len(totals)]
    if total == 0 and neighbours and min(neighbours) >= BUSY_NEIGHBOUR:
        beside = " and ".join(str(n) for n in neighbours)
        return f"0 records beside days of {beside}: are records missing at the vendor?"
    return ""


def plan_backfill(
    endpoint: str, shape: LoadShape, counts: Counts, max_requests: int | None = None
) -> BackfillPlan:
    """The plan of loading `counts.days` of `endpoint` as `shape` says the load pages."""
    size = shape.page_size
    totals = counts.day_totals
    if totals is None:
        days = tuple(DayPlan(day, None, None, None) for day in counts.days)
        whole = counts.listing_total
        return _plan(endpoint, shape, counts, days, [whole], max_requests)
    days = tuple(
        DayPlan(
            day,
            total,
            pages_for(total, size),
            requests_for(total, size),
            flag(totals, i, counts.listing_total),
        )
        for i, (day, total) in enumerate(zip(counts.days, totals, strict=True))
    )
    windows = list(totals) if shape.max_concurrency > 1 else [sum(totals)]
    return _plan(endpoint, shape, counts, days, windows, max_requests)


def _plan(
    endpoint: str,
    shape: LoadShape,
    counts: Counts,
    days: tuple[DayPlan, ...],
    window_totals: list[int],
    max_requests: int | None,
) -> BackfillPlan:
    """The plan of loading windows of these totals, one after another or several at once."""
    window_requests = [requests_for(total, shape.page_size) for total in window_totals]
    seconds, bound = expected_seconds(
        window_requests,
        shape.max_concurrency,
        counts.latency_seconds,
        shape.max_requests_per_second,
    )
    return BackfillPlan(
        endpoint=endpoint,
        shape=shape,
        counts=counts,
        days=days,
        windows=len(window_totals),
        pages=sum(pages_for(total, shape.page_size) for total in window_totals),
        requests=sum(window_requests),
        seconds=seconds,
        bound=bound,
        max_requests=max_requests,
    )
