"""The inventory API as a dlt REST API source, usable without Dagster.

`inventory_source` returns the resource `inventory_data` for one time window
`[start, end)` (or, for a range of days fetched in parallel, one resource per
day, all writing the `inventory_data` table). The window is sent to the API as
two query parameters and the API filters on its side, so every window is a
bounded, repeatable re-pull that merges on `id`; no dlt incremental state is
kept between runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import dlt
from dlt.common.jsonpath import compile_path
from dlt.extract.resource import DltResource
from dlt.sources import DltSource
from dlt.sources.rest_api import rest_api_source

from inventory_assets.sources.inventory_api import settings
from inventory_assets.sources.inventory_api.batching import PageBatcher
from inventory_assets.sources.inventory_api.http import build_session
from inventory_assets.sources.inventory_api.paging import InventoryPaginator
from inventory_assets.sources.inventory_api.stats import ExtractStats, Rejection
from inventory_assets.sources.inventory_api.validation import RecordChecker, page_checker

__all__ = [
    "ExtractStats",
    "Rejection",
    "Window",
    "declared_table",
    "inventory_source",
    "to_api_timestamp",
]


@dataclass(frozen=True)
class Window:
    """A half-open time window `[start, end)` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware (UTC)")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} must be after its start {self.start}")

    def days(self) -> list[Window]:
        """The window cut at UTC midnights (a partition range into its partitions)."""
        parts: list[Window] = []
        start = self.start
        while start < self.end:
            midnight = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=UTC)
            parts.append(Window(start, min(midnight, self.end)))
            start = parts[-1].end
        return parts


def to_api_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the form the contract documents."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def inventory_source(
    base_url: str,
    api_key: str,
    window: Window | None = None,
    *,
    window_start_param: str = settings.WINDOW_START_PARAM,
    window_end_param: str = settings.WINDOW_END_PARAM,
    backoff_factor: float = settings.BACKOFF_FACTOR,
    request_timeout: float = settings.REQUEST_TIMEOUT_SECONDS,
    split_daily: bool = False,
    stats: ExtractStats | None = None,
) -> DltSource:
    """Build the REST API source for one window (or the whole data set without one).

    With `split_daily`, a window of several days becomes one resource per day,
    all writing the `inventory_data` table, in a `parallelized` source, so dlt's
    extract workers fetch that many days at once (a backfill is latency-bound).
    `stats`, if given, is filled while the source is extracted: requests, pages,
    retries, the announced total, and the records rejected by validation.
    """
    stats = stats if stats is not None else ExtractStats()
    session = build_session(
        base_url, api_key, stats, backoff_factor=backoff_factor, request_timeout=request_timeout
    )
    windows: list[Window | None] = list(window.days()) if (window and split_daily) else [window]
    resources = [
        _resource(
            name=_resource_name(part, alone=len(windows) == 1),
            params=_window_params(part, window_start_param, window_end_param),
            stats=stats,
        )
        for part in windows
    ]
    source = rest_api_source(
        _config(base_url, api_key, session, resources),
        name="inventory_api",
        # Each resource's pages are fetched in dlt's extract thread pool, so the
        # days of a range are in flight at once (as many as the extract workers).
        parallelized=len(resources) > 1,
    )
    for resource in source.resources.values():
        # Whole pages in, checked records out as typed Arrow batches (batching.py).
        resource.add_step(PageBatcher(RecordChecker(stats)))
    return source


def _resource_name(window: Window | None, alone: bool) -> str:
    """`inventory_data`, or `inventory_data_YYYYMMDD` for one day among several."""
    if alone or window is None:
        return settings.RESOURCE_NAME
    return f"{settings.RESOURCE_NAME}_{window.start:%Y%m%d}"


def _window_params(window: Window | None, start_param: str, end_param: str) -> dict[str, str]:
    if window is None:
        return {}
    return {start_param: to_api_timestamp(window.start), end_param: to_api_timestamp(window.end)}


def _resource(name: str, params: dict[str, str], stats: ExtractStats) -> dict[str, Any]:
    """One endpoint resource of the config: a window of `/v1/resource`, paged by offset."""
    return {
        "name": name,
        "table_name": settings.RESOURCE_NAME,
        "columns": settings.COLUMNS,
        "endpoint": {
            "path": settings.ENDPOINT_PATH,
            # `data`, compiled once: dlt would re-parse a string selector on every page.
            "data_selector": compile_path(settings.DATA_SELECTOR),
            "params": params,
            # Offset paging by `limit` 100 that does not trust `total` blindly.
            "paginator": InventoryPaginator(limit=settings.PAGE_SIZE),
            "response_actions": [{"status_code": 200, "action": page_checker(stats)}],
        },
    }


def _config(base_url: str, api_key: str, session: Any, resources: list[dict[str, Any]]) -> Any:
    """The `rest_api_source` config dict: the contract in dlt's declarative format."""
    return {
        "client": {
            "base_url": base_url.rstrip("/"),
            "auth": {
                "type": "api_key",
                "name": settings.API_KEY_PARAM,
                "api_key": api_key,
                "location": "query",
            },
            "session": session,
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            # Vendor fields that arrive nested are kept as JSON, not exploded into tables.
            "max_table_nesting": 0,
            "schema_contract": settings.SCHEMA_CONTRACT,
        },
        "resources": resources,
    }


def declared_table() -> DltResource:
    """A resource that yields no rows, only the table with its declared columns.

    dlt creates a table when rows first arrive; adding this to the source at
    run time makes `inventory_data` exist after any load, even an empty first
    one, so checks and downstream SQL always find it. (Added at run time only:
    the asset specs must show one resource.)
    """
    return dlt.resource(
        [dlt.mark.materialize_table_schema()],
        name=f"{settings.RESOURCE_NAME}_declared",
        table_name=settings.RESOURCE_NAME,
        columns=settings.COLUMNS,
        primary_key="id",
        write_disposition="merge",
        max_table_nesting=0,
        schema_contract=settings.SCHEMA_CONTRACT,
    )
