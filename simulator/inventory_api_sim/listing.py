"""Listing: one paged endpoint of the vendor (/v1/resource, /v1/warehouses) and its pages.

Both endpoints page, filter by window and count alike, and deviate alike; they
differ in their records and in the fields a vendor that sends numbers as text,
or integers as floats, retypes. This module reads a request's paging and
window as the vendor currently reads them, and cuts the page from the
endpoint's index.
"""

from dataclasses import dataclass

from inventory_api_sim.deviations import Deviations
from inventory_api_sim.drift import integers_as_floats, numbers_as_text
from inventory_api_sim.pages import Page, Shape
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


def page_request(params: dict[str, str], deviations: Deviations) -> PageRequest:
    """The page the parameters ask for; BadRequest for a value the vendor reads and rejects.

    A vendor that ignores the window, or knows it by other names, never reads the
    contract's names, so it cannot reject their values either.
    """
    offset = int_param(params, "offset", 0, 0)
    limit = int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    if deviations.ignore_window:
        return PageRequest(offset, limit, None, None)
    since, before = deviations.window_params
    return PageRequest(offset, limit, time_param(params, since), time_param(params, before))


@dataclass(frozen=True)
class Listing:
    """One endpoint's records and its integer fields, which some vendors send as another type."""

    index: RecordIndex
    numeric_fields: tuple[str, ...]

    def page(self, request: PageRequest, deviations: Deviations, total_delta: int = 0) -> Page:
        """The page as the vendor serves it now; the caller holds the simulator's lock."""
        low, high = self.index.window(request.since, request.before)
        return Page(
            self.index.bodies,
            self.index.timeless,
            low,
            high,
            request.offset,
            request.limit,
            total_delta,
            cap=deviations.page_cap,
            total_of_all=deviations.total_ignores_window,
            show_total=not deviations.omit_total,
            null_when_empty=deviations.null_when_empty,
            shape=self._shape(deviations),
        )

    def _shape(self, deviations: Deviations) -> Shape | None:
        """How the vendor retypes numeric_fields as it serves them; None if it does not."""
        if deviations.numbers_as_strings:
            return numbers_as_text(self.numeric_fields)
        if deviations.integers_as_floats:
            return integers_as_floats(self.numeric_fields)
        return None
