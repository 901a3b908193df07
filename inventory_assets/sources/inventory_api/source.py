"""The inventory API as a dlt REST API source, usable without Dagster.

`inventory_source` returns the resource of one endpoint (as the code
location's `defs.yaml` declares it, e.g. the contract's `inventory_data`) for
one time window `[start, end)` (or, for a range of days fetched in parallel,
one resource per day, all writing the endpoint's table), or for the whole
listing. The window is sent to the API as two query parameters and the API
filters on its side (or, for a vendor that cannot, the listing is paged whole
and filtered here), so every window is a bounded, repeatable re-pull that
merges on the endpoint's key; no dlt incremental state is kept between runs.
"""

from __future__ import annotations

from typing import Any

import dlt
from dlt.common.jsonpath import compile_path
from dlt.sources import DltResource, DltSource
from dlt.sources.rest_api import rest_api_source

from inventory_assets.sources.inventory_api.client import VendorClient
from inventory_assets.sources.inventory_api.columnar.batching import PageBatcher
from inventory_assets.sources.inventory_api.contract import (
    SCHEMA_CONTRACT,
    ApiOptions,
    Credentials,
    Endpoint,
)
from inventory_assets.sources.inventory_api.stats import ExtractStats
from inventory_assets.sources.inventory_api.validation import (
    RecordChecker,
    WindowScope,
    page_checker,
)
from inventory_assets.sources.inventory_api.windows import Window, to_api_timestamp

SOURCE_NAME = "inventory_api"


def inventory_source(
    base_url: str,
    credentials: Credentials | str,
    window: Window | None = None,
    *,
    endpoint: Endpoint,
    options: ApiOptions | None = None,
    split_daily: bool = False,
    stats: ExtractStats | None = None,
) -> DltSource:
    """Build the REST API source of one endpoint for one window (or all of it without one).

    The endpoint's `sync_mode` says who keeps records to the window: `window`,
    the API (the window is sent, and a record outside it fails the load);
    `client_window`, this source (the whole listing is paged once, and records
    outside the window are left out); `full` loads the whole listing. With
    `split_daily`, a window of several days in `window` mode becomes one
    resource per day, all writing the endpoint's table, in a `parallelized`
    source, so dlt's extract workers fetch that many days at once (a backfill is
    latency-bound). `stats`, if given, is filled while the source is extracted:
    requests, pages, retries, the announced total, the records rejected by
    validation, and for a whole listing every key it held.
    """
    options = options or ApiOptions()
    stats = stats if stats is not None else ExtractStats()
    client = VendorClient(base_url, as_credentials(credentials), options, stats)
    vendor_filters = endpoint.sync_mode == "window" and window is not None
    windows: list[Window | None] = [window]
    if vendor_filters and split_daily:
        windows = list(window.days())  # type: ignore[union-attr]
    resources, checkers = [], []
    for part in windows:
        params = window_params(part, options) if vendor_filters else {}
        scope = WindowScope(part, vendor_filters, params) if part is not None else None
        checkers.append(RecordChecker(stats, endpoint, scope))
        resources.append(
            _resource(
                endpoint,
                name=_resource_name(endpoint, part, alone=len(windows) == 1),
                params=params,
                client=client,
            )
        )
    source = rest_api_source(
        _config(client, endpoint, resources),
        name=SOURCE_NAME,
        # Each resource's pages are fetched in dlt's extract thread pool, so the
        # days of a range are in flight at once (as many as the extract workers).
        parallelized=len(resources) > 1,
    )
    for resource, checker in zip(source.resources.values(), checkers, strict=True):
        # Whole pages in, checked records out as typed Arrow batches (columnar/batching.py).
        resource.add_step(PageBatcher(checker))
    return source


def _resource_name(endpoint: Endpoint, window: Window | None, alone: bool) -> str:
    """The endpoint's name, or `<name>_YYYYMMDD` for one day among several."""
    if alone or window is None:
        return endpoint.name
    return f"{endpoint.name}_{window.start:%Y%m%d}"


def window_params(window: Window | None, options: ApiOptions) -> dict[str, str]:
    """The query parameters that send `window` to the vendor (none for the whole listing);
    the backfill plan asks for a day's total with the same ones a load sends."""
    if window is None:
        return {}
    return {
        options.window_start_param: to_api_timestamp(window.start),
        options.window_end_param: to_api_timestamp(window.end),
    }


def _resource(
    endpoint: Endpoint, name: str, params: dict[str, str], client: VendorClient
) -> dict[str, Any]:
    """One endpoint resource of the config: a window of the listing, paged as it pages."""
    return {
        "name": name,
        "table_name": endpoint.name,
        "columns": endpoint.dlt_columns(),
        "endpoint": {
            "path": endpoint.path,
            # Compiled once: dlt would re-parse a string selector on every page.
            "data_selector": compile_path(endpoint.data_selector),
            "params": {**dict(endpoint.params), **params},
            # The endpoint's paging style, held to what every style guarantees (paging.py).
            "paginator": client.paginator(endpoint),
            "response_actions": [
                {"status_code": 200, "action": page_checker(endpoint, client.stats)}
            ],
        },
    }


def _config(client: VendorClient, endpoint: Endpoint, resources: list[dict[str, Any]]) -> Any:
    """The `rest_api_source` config dict: the vendor in dlt's declarative format."""
    return {
        "client": {"base_url": client.base_url, "auth": client.auth, "session": client.session},
        "resource_defaults": {
            "primary_key": endpoint.primary_key,
            "write_disposition": "merge",
            # Vendor fields that arrive nested are kept as JSON, not exploded into tables.
            "max_table_nesting": 0,
            "schema_contract": SCHEMA_CONTRACT,
        },
        "resources": resources,
    }


def as_credentials(credentials: Credentials | str) -> Credentials:
    """Credentials as given, or a bare string as the contract's API key."""
    return Credentials(api_key=credentials) if isinstance(credentials, str) else credentials


def declared_table(endpoint: Endpoint) -> DltResource:
    """A resource that yields no rows, only the table with its declared columns.

    dlt creates a table when rows first arrive; adding this to the source at
    run time makes the endpoint's table exist after any load, even an empty
    first one, so checks and downstream SQL always find it. (Added at run time
    only: the asset specs must show one resource.)
    """
    return dlt.resource(
        [dlt.mark.materialize_table_schema()],
        name=f"{endpoint.name}_declared",
        table_name=endpoint.name,
        columns=endpoint.dlt_columns(),
        primary_key=endpoint.primary_key,
        write_disposition="merge",
        max_table_nesting=0,
        schema_contract=SCHEMA_CONTRACT,
    )
