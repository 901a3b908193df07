"""Listing: one paged endpoint of the vendor (/v1/resource, /v1/warehouses) and its pages.

Both endpoints page, filter by window and count alike; they differ in their
records. This module reads a request's paging and window parameters and cuts
the page from the endpoint's index.
"""

from dataclasses import dataclass

from inventory_api_sim.pages import Page
from inventory_api_sim.params import int_param, time_param
from inventory_api_sim.records import RecordIndex

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Listing", "PageRequest", "page_request"]

MAX_LIMIT = 100
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class PageRequest:
    """What one request asks for; window bounds as instant_keys, None if unbounded."""

    offset: int
    limit: int
    since: str | None
    before: str | None


def page_request(params: dict[str, str]) -> PageRequest:
    """The page the parameters ask for; BadRequest for a value the contract does not allow."""
    offset = int_param(params, "offset", 0, 0)
    limit = int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    since, before = time_param(params, "updated_since"), time_param(params, "updated_before")
    return PageRequest(offset, limit, since, before)


@dataclass(frozen=True)
class Listing:
    """One endpoint's records, served in (updated_at, primary key) order."""

    index: RecordIndex

    def page(self, request: PageRequest, total_delta: int = 0) -> Page:
        """The page the request asks for; the caller holds the simulator's lock."""
        low, high = self.index.window(request.since, request.before)
        return Page(
            self.index.bodies,
            self.index.timeless,
            low,
            high,
            request.offset,
            request.limit,
            total_delta,
        )
