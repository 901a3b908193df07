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

from inventory_assets.sources.inventory_api import settings
from inventory_assets.sources.inventory_api.http import build_session
from inventory_assets.sources.inventory_api.stats import ExtractStats


def parse_api_timestamp(text: str) -> datetime:
    """A contract timestamp (ISO 8601, `Z` or an offset) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class Change:
    """One changed record: its id and the vendor's `updated_at`, verbatim."""

    id: int
    updated_at: str

    @property
    def moment(self) -> datetime:
        return parse_api_timestamp(self.updated_at)


@dataclass(frozen=True)
class Page:
    total: int
    changes: list[Change]


class ChangeFeed:
    """Small, quickly failing reads of the resource endpoint: ids and timestamps only.

    A sensor tick or a check must finish well inside Dagster's evaluation timeout, so
    this retries once with a short backoff instead of the ingestion's full schedule.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        window_start_param: str = settings.WINDOW_START_PARAM,
        window_end_param: str = settings.WINDOW_END_PARAM,
        request_timeout: float = 10.0,
        max_retries: int = 1,
    ) -> None:
        self._url = base_url.rstrip("/") + settings.ENDPOINT_PATH
        self._api_key = api_key
        self._since_param = window_start_param
        self._before_param = window_end_param
        self._session = build_session(
            base_url,
            api_key,
            ExtractStats(),
            backoff_factor=0.5,
            request_timeout=request_timeout,
            max_retries=max_retries,
        )

    def page(
        self,
        since: str | None,
        offset: int = 0,
        limit: int = settings.PAGE_SIZE,
        before: str | None = None,
    ) -> Page:
        """One page of records with `since <= updated_at < before`, oldest first."""
        params: dict[str, Any] = {settings.API_KEY_PARAM: self._api_key, "offset": offset}
        params["limit"] = limit
        if since is not None:
            params[self._since_param] = since
        if before is not None:
            params[self._before_param] = before
        response = self._session.get(self._url, params=params)
        response.raise_for_status()
        body = response.json()
        return Page(
            total=int(body[settings.TOTAL_PATH]),
            changes=[Change(int(r["id"]), str(r["updated_at"])) for r in body["data"]],
        )

    def newest(self) -> Change | None:
        """The most recently changed record: where a new cursor starts watching."""
        total = self.page(None, limit=1).total
        if total == 0:
            return None
        return self.page(None, offset=total - 1, limit=1).changes[0]

    def changes_since(self, since: str, max_pages: int, before: str | None = None) -> list[Change]:
        """Up to `max_pages` pages of the change set (before `before`), oldest first."""
        changes: list[Change] = []
        for number in range(max_pages):
            page = self.page(since, offset=number * settings.PAGE_SIZE, before=before)
            changes.extend(page.changes)
            if not page.changes or len(changes) >= page.total:
                break
        return changes
