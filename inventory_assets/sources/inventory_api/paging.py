"""Offset paging that survives an API whose `total` is wrong, missing, or whose pages are capped.

The stock offset paginator advances by `limit` and stops once `offset >=
total`: a vendor that serves fewer records per page than asked loses the rest
of every page, a `total` that is too small drops records, and a missing one
fails. This one advances by the records that arrived, so a capped page loses
nothing; it learns the vendor's real page size from the pages (the largest
seen), keeps paging while pages are that full, and stops at a page shorter
than that or at an empty page. A short first page is the last only if the
total says so; without a total, one more request tells. An empty page below
the total is an overstated total (the next page is empty too) or a hole (it
is not: fail).
"""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.paginators import OffsetPaginator
from requests import Response

from inventory_assets.sources.inventory_api.batching import LAST_PAGE_FLAG
from inventory_assets.sources.inventory_api.errors import PageContractError, where
from inventory_assets.sources.inventory_api.settings import MAXIMUM_OFFSET
from inventory_assets.sources.inventory_api.validation import total_of


class InventoryPaginator(OffsetPaginator):
    """Pages of up to `limit` records from offset 0; see the module docstring for when it stops."""

    def __init__(self, limit: int, total_path: str) -> None:
        super().__init__(
            limit=limit,
            offset_param="offset",
            limit_param="limit",
            total_path=None,
            stop_after_empty_page=True,
        )
        self._total_path = total_path
        self._empty_at: int | None = None
        self.page_size_seen = 0  # the most records one page held: the vendor's page size

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self._advance(response, len(data or []), total_of(response.json(), self._total_path))
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
        if self.current_value >= MAXIMUM_OFFSET:
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
