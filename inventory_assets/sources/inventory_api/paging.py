"""Offset paging that survives an API whose `total` is wrong.

The stock offset paginator stops once `offset >= total`, so a `total` that is
too small drops records, and it stops at the first empty page, so a hole in
the middle of a window drops the rest. This one keeps paging while pages are
full, stops at a short page, and treats an empty page below `total` as either
an overstated total (the next page is empty too) or a hole (it is not: fail).
"""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.paginators import OffsetPaginator
from requests import Response

from inventory_assets.sources.inventory_api.batching import LAST_PAGE_FLAG
from inventory_assets.sources.inventory_api.errors import PageContractError, where
from inventory_assets.sources.inventory_api.settings import MAXIMUM_OFFSET
from inventory_assets.sources.inventory_api.validation import select


class InventoryPaginator(OffsetPaginator):
    """Pages of `limit` records from offset 0; see the module docstring for when it stops."""

    def __init__(self, limit: int, total_path: str) -> None:
        super().__init__(
            limit=limit,
            offset_param="offset",
            limit_param="limit",
            total_path=None,
            stop_after_empty_page=True,
        )
        self._empty_at: int | None = None
        self._total_path = total_path

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self._advance(response, data)
        if not self.has_next_page:
            # Tells the page batcher to flush: this object may be on the next page by then.
            setattr(response, LAST_PAGE_FLAG, True)

    def _advance(self, response: Response, data: list[Any] | None) -> None:
        received = len(data or [])
        if received == 0:
            total = int(select(response.json(), self._total_path))
            self._after_empty_page(response, self.current_value, total)
            return
        if self._empty_at is not None:
            raise PageContractError(
                f"The inventory API returned an empty page at offset {self._empty_at} but more "
                f"records after it ({where(response)}); re-run the partition."
            )
        if received < self.value_step:
            self._has_next_page = False
            return
        self.current_value += self.value_step
        if self.current_value >= MAXIMUM_OFFSET:
            raise PageContractError(
                f"The inventory API kept returning full pages up to offset {self.current_value} "
                f"({where(response)}); refusing to page further."
            )

    def _after_empty_page(self, response: Response, offset: int, total: int) -> None:
        if offset >= total or self._empty_at is not None:
            self._has_next_page = False
            return
        # Below `total`: look one page further to tell a lying total from a hole.
        self._empty_at = offset
        self.current_value += self.value_step
