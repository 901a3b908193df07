"""The change feed: what the vendor changed since a point on the vendor's own clock.

The API orders records by `(updated_at, id)` and filters with an inclusive
`updated_since`, so "everything changed since T" is a stable, pageable slice.
The change sensor asks for it with a handful of small requests per tick; the
reconciliation check uses the same reads, bounded by `updated_before`, to count
and list a window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from inventory_assets.sources.inventory_api.client import VendorClient
from inventory_assets.sources.inventory_api.contract import Endpoint
from inventory_assets.sources.inventory_api.errors import WindowIgnoredError
from inventory_assets.sources.inventory_api.validation import ContractViolation, column_check
from inventory_assets.sources.inventory_api.windows import to_api_timestamp

RECENT = timedelta(days=1)  # where a walk for the newest change starts, without offsets


def parse_api_timestamp(text: str) -> datetime:
    """A contract timestamp (ISO 8601, `Z` or an offset) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class Change:
    """One changed record: its key and the vendor's cursor value (`updated_at`), verbatim."""

    id: Any
    updated_at: str

    @property
    def moment(self) -> datetime:
        return parse_api_timestamp(self.updated_at)


@dataclass(frozen=True)
class Page:
    total: int | None  # None: the vendor's pages say no total
    changes: list[Change]
    more: bool = False  # whether the paginator would ask for another page


class ChangeFeed:
    """Small reads of an endpoint's listing: keys and cursor values only.

    Through the vendor's one client (its auth and paging style, the key masked,
    `Retry-After` honoured), with the retries the caller chooses: a sensor tick
    must finish well inside Dagster's evaluation timeout, a check may wait as
    long as a load would. What needs a page at any record (the listing's tail)
    exists only where the endpoint pages by offset (`seeks`).
    """

    def __init__(self, client: VendorClient, endpoint: Endpoint) -> None:
        self._client = client
        self._endpoint = endpoint
        self._options = client.options
        self.retries = client.options.max_retries
        self._typed_key = column_check(endpoint.column(endpoint.primary_key))

    @property
    def seeks(self) -> bool:
        """Whether a page can be read at any offset (the listing's tail in one request)."""
        return self._endpoint.paginator.seeks

    @property
    def page_size(self) -> int | None:
        return self._endpoint.paginator.page_size

    @property
    def requests(self) -> int:
        """HTTP requests this feed has sent, retries included (the cost of a check)."""
        return self._client.stats.requests

    def pages_for(self, records: int) -> int:
        """How many pages hold `records` records (at least one of 100 per page is assumed
        for a style that does not say), plus the one that shows the end."""
        return records // (self.page_size or 100) + 1

    def first(self, since: str | None, before: str | None = None) -> Page:
        """The first page of records with `since <= cursor < before`, oldest first."""
        return next(self._pages(since, before, max_pages=1), Page(None, []))

    def seek(self, offset: int, limit: int) -> Page:
        """The records at `offset` of the whole listing (endpoints that page by offset)."""
        page = self._client.seek(self._endpoint, {}, offset, limit)
        return Page(page.total, self._changes(page.records, None, None, {}), page.more)

    def _window(self, since: str | None, before: str | None) -> dict[str, str]:
        params = {}
        if since is not None:
            params[self._options.window_start_param] = since
        if before is not None:
            params[self._options.window_end_param] = before
        return params

    def _pages(self, since: str | None, before: str | None, max_pages: int):
        params = self._window(since, before)
        for page in self._client.pages(self._endpoint, params, max_pages):
            changes = self._changes(page.records, since, before, params)
            yield Page(page.total, changes, page.more)

    def _changes(self, records: list, since: str | None, before: str | None, sent: dict):
        field = self._endpoint.cursor_field
        changes = [Change(self._key(r), str(r[field])) for r in records]
        self._require_in_window(changes, since, before, sent)
        return changes

    def _key(self, record: dict[str, Any]) -> Any:
        """The record's key as the warehouse holds it (a quoted integer becomes an
        integer, as a load converts it); a key a load would reject stays as sent."""
        key = record[self._endpoint.primary_key]
        try:
            return self._typed_key(key)
        except ContractViolation:
            return key

    def _require_in_window(
        self, changes: list[Change], since: str | None, before: str | None, sent: dict
    ) -> None:
        """A vendor that ignores the window would make every read here wrong: refuse it."""
        low = parse_api_timestamp(since) if since else None
        high = parse_api_timestamp(before) if before else None
        for change in changes:
            if (low and change.moment < low) or (high and change.moment >= high):
                raise WindowIgnoredError(
                    f"The inventory API ignored the window {sent}: it sent "
                    f"{self._endpoint.primary_key} {change.id} with "
                    f"{self._endpoint.cursor_field} {change.updated_at}. {WindowIgnoredError.FIX}"
                )

    def newest(self, max_pages: int = 50) -> Change | None:
        """The most recently changed record: where a new cursor starts watching.

        The listing is ordered oldest first, so it is the last record: one request
        finds it where the vendor pages by offset and gives a total. Elsewhere the
        change set of the last day (by this machine's clock: only a place to start
        looking) is walked, at most `max_pages` pages, then the listing from its start.
        """
        if self.seeks:
            total = self.seek(0, 1).total
            if total is not None:
                return self.seek(total - 1, 1).changes[-1] if total else None
        recent = to_api_timestamp(datetime.now(UTC) - RECENT)
        listed = self.changes_since(recent, max_pages) or self.changes_since(None, max_pages)
        return listed[-1] if listed else None

    def changes_since(
        self, since: str | None, max_pages: int, before: str | None = None
    ) -> list[Change]:
        """Up to `max_pages` pages of the change set (before `before`), oldest first, as
        the endpoint pages (to an empty or last page, or the announced total)."""
        changes: list[Change] = []
        for page in self._pages(since, before, max_pages):
            changes.extend(page.changes)
        return changes
