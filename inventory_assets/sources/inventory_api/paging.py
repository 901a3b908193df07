"""How a listing is paged, in each style dlt's rest_api knows, and what every style guarantees.

`build_paginator` turns an endpoint's `Paginator` (dlt's vocabulary: `offset`,
`page_number`, `cursor`, `json_link`, `header_link`, `single_page`, with the
fields dlt takes for each) into the paginator a load, a check, a sensor and the
probe all page with.

Offset paging is ours (`InventoryPaginator`): dlt's stock offset paginator
advances by `limit` and stops once `offset >= total`, so a vendor that serves
fewer records per page than asked loses the rest of every page, a `total` that
is too small drops records, and a missing one fails. This one advances by the
records that arrived, learns the vendor's real page size from the pages (the
largest seen), keeps paging while pages are that full, and stops at a page
shorter than that or at an empty page. A short first page is the last only if
the total says so; without a total, one more request tells. An empty page
below the total is an overstated total (the next page is empty too) or a hole
(it is not: fail).

The other styles are dlt's own paginators under `PageGuard`, which holds each of
them to what every style guarantees: the page loop is bounded; a page that
announced more (a has-more flag) and is followed by an empty one fails, as
does a page-number listing with an empty page before its announced last page;
a cursor served twice (a loop) fails; and a next link to another host than the
vendor's is refused before anything is sent to it. Every style's records are
checked against the window, its repeated keys counted and its announced total
compared with what arrived, by the record and page checks (validation.py) and
the load (inventory_assets/loading.py), which do not depend on the style.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from dlt.common import jsonpath
from dlt.sources.helpers.rest_client.paginators import (
    BasePaginator,
    HeaderLinkPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    SinglePagePaginator,
)
from requests import Request, Response

from inventory_assets.sources.inventory_api.contract import MAXIMUM_OFFSET, Paginator
from inventory_assets.sources.inventory_api.errors import (
    ForeignHostError,
    PageContractError,
    where,
)
from inventory_assets.sources.inventory_api.http import origin
from inventory_assets.sources.inventory_api.validation import total_of

# The most pages one window may take in any style: a vendor that never says "last page".
MAXIMUM_PAGES = 100_000
# Set on the response of a window's last page, for the step that batches pages
# (columnar/batching.py): it flushes there.
LAST_PAGE_FLAG = "inventory_last_page"


class InventoryPaginator(OffsetPaginator):
    """Pages of up to `limit` records from offset 0; see the module docstring for when it stops."""

    def __init__(
        self,
        limit: int,
        total_path: str | None,
        offset_param: str = "offset",
        limit_param: str = "limit",
        maximum_offset: int | None = None,
        has_more_path: str | None = None,
        stop_after_empty_page: bool = True,
    ) -> None:
        super().__init__(
            limit=limit,
            offset_param=offset_param,
            limit_param=limit_param,
            total_path=None,
            stop_after_empty_page=stop_after_empty_page,
        )
        self._total_path = total_path or ""
        self._has_more = jsonpath.compile_path(has_more_path) if has_more_path else None
        self._ceiling = min(maximum_offset or MAXIMUM_OFFSET, MAXIMUM_OFFSET)
        self._empty_at: int | None = None
        self.page_size_seen = 0  # the most records one page held: the vendor's page size

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        payload = response.json()
        self._advance(response, len(data or []), total_of(payload, self._total_path))
        if self._has_more is not None and _flag(self._has_more, payload) is False:
            self._has_next_page = False
        if not self.has_next_page:
            # Tells the page batcher to flush: this object may be on the next page by then.
            setattr(response, LAST_PAGE_FLAG, True)

    def _advance(self, response: Response, received: int, total: int | None) -> None:
        offset = self.current_value
        if received == 0:
            self._after_empty_page(offset, total)
            return
        if self._empty_at is not None:
            raise PageContractError(
                f"The inventory API returned an empty page at offset {self._empty_at} but more "
                f"records after it ({where(response)}); re-run the partition."
            )
        first_page = self.page_size_seen == 0
        self.current_value = offset + received
        if received < self.page_size_seen or (first_page and self._is_last(received, total)):
            self._has_next_page = False
        self.page_size_seen = max(self.page_size_seen, received)
        if self.current_value >= self._ceiling:
            if self._ceiling < MAXIMUM_OFFSET:  # the configured maximum_offset: stop there
                self._has_next_page = False
                return
            raise PageContractError(
                f"The inventory API kept returning full pages up to offset {self.current_value} "
                f"({where(response)}); refusing to page further."
            )

    def _is_last(self, received: int, total: int | None) -> bool:
        """A first page shorter than asked is the last one if the total says nothing remains."""
        if received >= self.value_step:
            return False
        return total is not None and self.current_value >= total

    def _after_empty_page(self, offset: int, total: int | None) -> None:
        if total is None or offset >= total or self._empty_at is not None:
            self._has_next_page = False
            return
        # Below `total`: look one page further to tell a lying total from a hole.
        self._empty_at = offset
        self.current_value += self.value_step


def _flag(path: Any, payload: Any) -> bool | None:
    """A has-more flag's value (`true`, `"false"`), None where the page has none."""
    values = jsonpath.find_values(path, payload)
    value = values[0] if values else None
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return value if isinstance(value, bool) else None


class PageGuard(BasePaginator):
    """What every paging style guarantees, on top of dlt's paginator of the style.

    Mixed in before the dlt class: `guarded(JSONLinkPaginator)` is a
    JSONLinkPaginator whose `update_state` first checks the page it is given.
    """

    vendor_origin: str = ""  # scheme://host:port of the vendor's base URL
    _pages = 0
    _promised_more = False
    _cursors: frozenset = frozenset()

    def init_request(self, request: Request) -> None:
        self._pages, self._promised_more, self._cursors = 0, False, frozenset()
        super().init_request(request)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self._pages += 1
        if self._pages > MAXIMUM_PAGES:
            raise PageContractError(
                f"The inventory API kept announcing more pages after {MAXIMUM_PAGES} of them "
                f"({where(response)}); refusing to page further."
            )
        if self._promised_more and not data:
            raise PageContractError(
                f"The inventory API's page before {where(response)} said more records follow, "
                "but this one is empty: records may be missing. Nothing was loaded; re-run "
                "the partition."
            )
        self._before(response, data)
        try:
            super().update_state(response, data)
        except ValueError:  # dlt's: a total or a has-more flag missing or not a number
            raise PageContractError(
                f"The inventory API's page at {where(response)} holds no valid value where "
                f"the paginator looks ({self}); check the paginator's fields in defs.yaml "
                "(inventory-api-probe shows what the pages hold)."
            ) from None
        self._after(response)
        if not self.has_next_page:
            setattr(response, LAST_PAGE_FLAG, True)

    def _before(self, response: Response, data: list[Any] | None) -> None:
        """Style checks that need the page before dlt has moved on (none by default)."""

    def _after(self, response: Response) -> None:
        """What the page promised: more records (a has-more flag)."""
        has_more = getattr(self, "has_more_path", None)
        if has_more is not None:
            self._promised_more = self.has_next_page and _flag(has_more, response.json()) is True


class _GuardedPageNumbers(PageGuard, PageNumberPaginator):
    def _before(self, response: Response, data: list[Any] | None) -> None:
        """An empty page before the announced last page is a hole, not the end."""
        if data or self.total_path is None or self._pages == 1:
            return
        values = jsonpath.find_values(self.total_path, response.json())
        pages = values[0] if values and isinstance(values[0], int) else None
        if pages is not None and self.current_value < pages - 1 + self.base_index:
            raise PageContractError(
                f"The inventory API returned an empty page at {where(response)} before its "
                f"last page ({pages} announced): records may be missing. Nothing was loaded."
            )


class _GuardedCursor(PageGuard, JSONResponseCursorPaginator):
    def _after(self, response: Response) -> None:
        super()._after(response)
        cursor = self._next_reference
        if cursor is not None and cursor in self._cursors:
            raise PageContractError(
                f"The inventory API returned a cursor it had already served ({where(response)}):"
                " its pages loop. Nothing was loaded."
            )
        self._cursors = self._cursors | {cursor}


class _NextLinkGuard(PageGuard):
    """A next page given as a URL: it must be the vendor's, or the key would go with it."""

    def _after(self, response: Response) -> None:
        super()._after(response)
        link = getattr(self, "_next_reference", None)
        if not link:
            return
        target = origin(urljoin(response.url, link))
        if target != self.vendor_origin:
            raise ForeignHostError(
                f"The inventory API's next page link points to {target}, not to the vendor's "
                f"{self.vendor_origin} ({where(response)}): refused before any request, so the "
                "credentials go nowhere else. Nothing was loaded."
            )


class _GuardedJSONLink(_NextLinkGuard, JSONLinkPaginator):
    pass


class _GuardedHeaderLink(_NextLinkGuard, HeaderLinkPaginator):
    pass


class _GuardedSinglePage(PageGuard, SinglePagePaginator):
    pass


_GUARDED: dict[str, type[PageGuard]] = {
    "page_number": _GuardedPageNumbers,
    "cursor": _GuardedCursor,
    "json_link": _GuardedJSONLink,
    "header_link": _GuardedHeaderLink,
    "single_page": _GuardedSinglePage,
}


def build_paginator(paginator: Paginator, base_url: str) -> BasePaginator:
    """The paginator of `paginator`'s style, held to what every style guarantees."""
    fields = dict(paginator.fields)
    if paginator.type == "offset":
        return InventoryPaginator(total_path=paginator.total_path, **fields)
    guarded = _GUARDED[paginator.type](**fields)
    guarded.vendor_origin = origin(base_url)
    return guarded
