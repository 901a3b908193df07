"""Listing: one paged endpoint of the vendor (/v1/resource, /v1/warehouses) and its pages.

Both endpoints page, filter by window and count alike, and deviate alike; they
differ in their records, in the type of their primary key (which a cursor
carries), and in the fields a vendor that sends numbers as text, or integers
as floats, retypes. This module reads a request's paging and window as the
vendor currently reads them (in the paging style in force, paging.py), and
cuts the page from the endpoint's index.
"""

from dataclasses import dataclass

from inventory_api_sim.deviations import Deviations
from inventory_api_sim.drift import integers_as_floats, numbers_as_text
from inventory_api_sim.pages import Page, Shape
from inventory_api_sim.paging import CursorKey, Links, cursor_offset, dress, position
from inventory_api_sim.params import time_param
from inventory_api_sim.records import RecordIndex

__all__ = ["Listing", "PageRequest"]


@dataclass(frozen=True)
class PageRequest:
    """What one request asks for; window bounds as instant_keys, None if unbounded.

    A cursor request starts strictly after the sort key `after`, wherever that
    is in the window when the page is cut; its `offset` is 0 until then.
    """

    offset: int
    limit: int
    since: str | None
    before: str | None
    after: CursorKey | None = None


@dataclass(frozen=True)
class Listing:
    """One endpoint's records, its primary key's type, and its integer fields.

    A cursor's key must be of key_type; some vendors send numeric_fields as another type.
    """

    index: RecordIndex
    key_type: type
    numeric_fields: tuple[str, ...]

    def request(self, params: dict[str, str], deviations: Deviations) -> PageRequest:
        """The page the parameters ask for; BadRequest for a value the vendor reads and rejects.

        A vendor that ignores the window, or knows it by other names, never reads the
        contract's names, so it cannot reject their values either.
        """
        offset, limit, after = position(
            params, deviations.paging, deviations.page_cap, self.key_type
        )
        if deviations.ignore_window:
            return PageRequest(offset, limit, None, None, after)
        since, before = deviations.window_params
        return PageRequest(
            offset, limit, time_param(params, since), time_param(params, before), after
        )

    def page(
        self,
        request: PageRequest,
        deviations: Deviations,
        total_delta: int = 0,
        links: Links | None = None,
    ) -> Page:
        """The page as the vendor serves it now; the caller holds the simulator's lock.

        `links` say where the request's other pages are, for the paging styles that link them.
        """
        index = self.index
        low, high = index.window(request.since, request.before)
        offset = request.offset
        if request.after is not None:
            offset = cursor_offset(index.keys, index.timeless, low, high, request.after)
        page = Page(
            index.bodies,
            index.timeless,
            low,
            high,
            offset,
            request.limit,
            total_delta,
            cap=deviations.page_cap,
            total_of_all=deviations.total_ignores_window,
            show_total=not deviations.omit_total,
            null_when_empty=deviations.null_when_empty,
            shape=self._shape(deviations),
        )
        dress(page, deviations.paging, index.keys, links)
        return page

    def _shape(self, deviations: Deviations) -> Shape | None:
        """How the vendor retypes numeric_fields as it serves them; None if it does not."""
        if deviations.numbers_as_strings:
            return numbers_as_text(self.numeric_fields)
        if deviations.integers_as_floats:
            return integers_as_floats(self.numeric_fields)
        return None
