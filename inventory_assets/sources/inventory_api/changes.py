"""The change feed: what the vendor changed since a point on the vendor's own clock.

The API orders records by `(updated_at, id)` and filters with an inclusive
`updated_since`, so "everything changed since T" is a stable, pageable slice.
The change sensor asks for it with a handful of small requests per tick; the
reconciliation check uses the same reads, bounded by `updated_before`, to count
and list a window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inventory_assets.sources.inventory_api.errors import WindowIgnoredError
from inventory_assets.sources.inventory_api.http import build_session
from inventory_assets.sources.inventory_api.settings import ApiOptions, Endpoint
from inventory_assets.sources.inventory_api.stats import ExtractStats
from inventory_assets.sources.inventory_api.validation import (
    ContractViolation,
    column_check,
    select,
    total_of,
    valid_page,
)


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


class ChangeFeed:
    """Small reads of an endpoint's listing: keys and cursor values only.

    The same session as a load (the key masked, `Retry-After` honoured), with
    the retries the caller chooses: a sensor tick must finish well inside
    Dagster's evaluation timeout, a check may wait as long as a load would.
    """

    def __init__(
        self, base_url: str, api_key: str, endpoint: Endpoint, options: ApiOptions
    ) -> None:
        self._url = base_url.rstrip("/") + endpoint.path
        self._api_key = api_key
        self._endpoint = endpoint
        self._options = options
        self.retries = options.max_retries
        self._stats = ExtractStats()
        self._session = build_session(base_url, api_key, self._stats, options)
        self._typed_key = column_check(endpoint.column(endpoint.primary_key))
        self._valid = valid_page(endpoint.data_selector, options.total_path)

    def page(
        self,
        since: str | None,
        offset: int = 0,
        limit: int | None = None,
        before: str | None = None,
    ) -> Page:
        """One page of records with `since <= cursor < before`, oldest first."""
        options, endpoint = self._options, self._endpoint
        params: dict[str, Any] = {options.api_key_param: self._api_key, "offset": offset}
        params["limit"] = limit or options.page_size
        if since is not None:
            params[options.window_start_param] = since
        if before is not None:
            params[options.window_end_param] = before
        # Malformed pages (a maintenance page in HTML, truncated JSON) are retried as a
        # load retries them, by the session; what still fails raises MalformedPageError.
        response = self._session.get(self._url, params=params, hooks={"response": self._valid})
        response.raise_for_status()
        body = response.json()
        records = select(body, endpoint.data_selector) or []
        changes = [Change(self._key(r), str(r[endpoint.cursor_field])) for r in records]
        self._require_in_window(changes, since, before, params)
        return Page(total=total_of(body, options.total_path), changes=changes)

    def _key(self, record: dict[str, Any]) -> Any:
        """The record's key as the warehouse holds it (a quoted integer becomes an
        integer, as a load converts it); a key a load would reject stays as sent."""
        key = record[self._endpoint.primary_key]
        try:
            return self._typed_key(key)
        except ContractViolation:
            return key

    def _require_in_window(
        self, changes: list[Change], since: str | None, before: str | None, params: dict
    ) -> None:
        """A vendor that ignores the window would make every read here wrong: refuse it."""
        low = parse_api_timestamp(since) if since else None
        high = parse_api_timestamp(before) if before else None
        for change in changes:
            if (low and change.moment < low) or (high and change.moment >= high):
                sent = {k: v for k, v in params.items() if k in self._window_names}
                raise WindowIgnoredError(
                    f"The inventory API ignored the window {sent}: it sent "
                    f"{self._endpoint.primary_key} {change.id} with "
                    f"{self._endpoint.cursor_field} {change.updated_at}. {WindowIgnoredError.FIX}"
                )

    @property
    def _window_names(self) -> tuple[str, str]:
        return (self._options.window_start_param, self._options.window_end_param)

    def newest(self, max_pages: int = 50) -> Change | None:
        """The most recently changed record: where a new cursor starts watching.

        The listing is ordered oldest first, so it is the last record: one request
        finds it where the vendor gives a total, a walk through the pages where not.
        """
        total = self.page(None, limit=1).total
        if total is None:
            listed = self.changes_since(None, max_pages)
            return listed[-1] if listed else None
        if total == 0:
            return None
        return self.page(None, offset=total - 1, limit=1).changes[0]

    @property
    def requests(self) -> int:
        """HTTP requests this feed has sent, retries included (the cost of a check)."""
        return self._stats.requests

    def pages_for(self, records: int) -> int:
        """How many pages hold `records` records, plus the one that shows the end."""
        return records // self._options.page_size + 1

    def changes_since(
        self,
        since: str | None,
        max_pages: int,
        before: str | None = None,
        first: Page | None = None,
    ) -> list[Change]:
        """Up to `max_pages` pages of the change set (before `before`), oldest first.

        Paging advances by what arrived and ends at an empty page, or once the
        total (where there is one) is reached. `first`, the first page if the
        caller has already read it, is not asked again.
        """
        changes: list[Change] = []
        for _ in range(max_pages):
            page = first or self.page(since, offset=len(changes), before=before)
            first = None
            changes.extend(page.changes)
            if not page.changes or (page.total is not None and len(changes) >= page.total):
                break
        return changes
