"""What a measured child process runs: one variant, timed without its imports.

Each function imports its own dependencies, so the raw loop's process never
loads dlt or Dagster, and returns a dict for the child's result line. The
timed span is the work in a warm interpreter; the harness separately measures
whole processes (the CLI variants and the import times).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inventory_assets.settings import ApiSettings

API_KEY_ENV = "INVENTORY_API_KEY"  # the key comes through the environment, never argv
POSTGRES_URL_ENV = "INVENTORY_POSTGRES_URL"  # set only for a run into PostgreSQL
TABLE = "inventory_data"
# Workloads that receive records and write nothing: their count is what gets verified.
RECEIVING_WORKLOADS = ("raw", "rest-client")
DATASET = "inventory"


def _api_key() -> str:
    return os.environ[API_KEY_ENV]


def raw(spec: dict[str, Any]) -> dict[str, Any]:
    """The lower bound: one keep-alive session paging the window, decoding JSON, writing nothing."""
    import requests

    start, end = spec["window"]
    limit = spec["page_size"]
    url = f"{spec['url']}/v1/resource"
    params = {"api_key": _api_key(), "limit": limit, "updated_since": start, "updated_before": end}
    rows = offset = 0
    started = time.perf_counter()
    with requests.Session() as session:
        while True:
            response = session.get(url, params={**params, "offset": offset}, timeout=30)
            response.raise_for_status()
            page = response.json()
            received = len(page["data"])
            rows += received
            offset += received
            if received < limit or offset >= page["total"]:
                break
    return {"wall_s": time.perf_counter() - started, "rows": rows}


def rest_client(spec: dict[str, Any]) -> dict[str, Any]:
    """The floor of any `rest_api_source` path: dlt's RESTClient paging the window with
    the project's session (retries, key redaction) and page check, writing nothing.

    What the project's source config makes dlt build, minus everything after the
    page: no record checks, no Arrow, no pipeline, no Dagster.
    """
    from dataclasses import replace

    from dlt.common.jsonpath import compile_path
    from dlt.sources.helpers.rest_client import RESTClient

    from inventory_assets.settings import settings_from_yaml
    from inventory_assets.sources.inventory_api import ExtractStats
    from inventory_assets.sources.inventory_api.client import VendorClient
    from inventory_assets.sources.inventory_api.contract import ApiOptions, Credentials, Paginator
    from inventory_assets.sources.inventory_api.validation import page_checker

    start, end = spec["window"]
    paginator = Paginator("offset", (("limit", spec["page_size"]),), "total")
    settings = settings_from_yaml()
    contract = settings.endpoints["inventory_data"].endpoint("inventory_data", settings.api)
    endpoint = replace(contract, paginator=paginator)
    stats = ExtractStats()
    started = time.perf_counter()
    vendor = VendorClient(spec["url"], Credentials(api_key=_api_key()), ApiOptions(), stats)
    client = RESTClient(
        base_url=vendor.base_url,
        auth=vendor.auth,
        session=vendor.session,
        paginator=vendor.paginator(endpoint),
        data_selector=compile_path(endpoint.data_selector),
    )
    hooks = {"response": [page_checker(endpoint, stats)]}
    params = {"updated_since": start, "updated_before": end}
    rows = sum(len(page) for page in client.paginate(endpoint.path, params=params, hooks=hooks))
    return {"wall_s": time.perf_counter() - started, "rows": rows}


def plain_dlt(spec: dict[str, Any]) -> dict[str, Any]:
    """What a user writes by hand: `rest_api_source` with dlt's defaults into a DuckDB file."""
    import dlt
    from dlt.sources.rest_api import rest_api_source

    start, end = spec["window"]
    config: Any = {
        "client": {
            "base_url": spec["url"],
            "auth": {
                "type": "api_key",
                "name": "api_key",
                "api_key": _api_key(),
                "location": "query",
            },
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {
                "name": TABLE,
                "endpoint": {
                    "path": "/v1/resource",
                    "data_selector": "data",
                    "params": {"updated_since": start, "updated_before": end},
                    "paginator": {
                        "type": "offset",
                        "limit": spec["page_size"],
                        "total_path": "total",
                    },
                },
            }
        ],
    }
    workdir = Path(spec["workdir"])
    started = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name="plain_inventory",
        pipelines_dir=str(workdir / "dlt_pipelines"),
        destination=dlt.destinations.duckdb(credentials=spec["duckdb_path"]),
        dataset_name=DATASET,
    )
    pipeline.run(rest_api_source(config))
    wall = time.perf_counter() - started
    normalized = pipeline.last_trace.last_normalize_info
    rows = normalized.row_counts.get(TABLE, 0) if normalized else 0
    return {"wall_s": wall, "rows_loaded": rows}


def dlt_arrow(spec: dict[str, Any]) -> dict[str, Any]:
    """The tuned peer: a plain `@dlt.resource` that pages with requests and yields one
    Arrow table of typed columns per 5,000 records, merged on `id` into a DuckDB file."""
    import dlt
    import pyarrow as pa
    import requests

    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("inventory_id", pa.string()),
            ("product_name", pa.string()),
            ("sku", pa.string()),
            ("quantity", pa.int64()),
            ("unit_price", pa.decimal128(18, 4)),
            ("warehouse", pa.string()),
            ("updated_at", pa.timestamp("us", tz="UTC")),
        ]
    )
    text_typed = {"unit_price", "updated_at"}  # sent as text, cast in Arrow

    def table(records: list[dict[str, Any]]) -> pa.Table:
        columns = [
            pa.array([record.get(f.name) for record in records], type=pa.string()).cast(f.type)
            if f.name in text_typed
            else pa.array([record.get(f.name) for record in records], type=f.type)
            for f in schema
        ]
        return pa.Table.from_arrays(columns, schema=schema)

    start, end = spec["window"]
    limit = spec["page_size"]

    @dlt.resource(name=TABLE, primary_key="id", write_disposition="merge")
    def inventory() -> Any:
        params = {
            "api_key": _api_key(),
            "limit": limit,
            "updated_since": start,
            "updated_before": end,
        }
        batch: list[dict[str, Any]] = []
        offset = 0
        with requests.Session() as session:
            while True:
                response = session.get(
                    f"{spec['url']}/v1/resource", params={**params, "offset": offset}, timeout=30
                )
                response.raise_for_status()
                page = response.json()
                batch.extend(page["data"])
                offset += len(page["data"])
                if len(batch) >= 5_000:
                    yield table(batch)
                    batch = []
                if len(page["data"]) < limit or offset >= page["total"]:
                    break
        if batch:
            yield table(batch)

    started = time.perf_counter()
    pipeline = dlt.pipeline(
        pipeline_name="arrow_inventory",
        pipelines_dir=str(Path(spec["workdir"]) / "dlt_pipelines"),
        destination=dlt.destinations.duckdb(credentials=spec["duckdb_path"]),
        dataset_name=DATASET,
    )
    info = pipeline.run(inventory())
    info.raise_on_failed_jobs()
    return {"wall_s": time.perf_counter() - started}


def project(spec: dict[str, Any]) -> dict[str, Any]:
    """`materialize()` of `inventory/inventory_data` in process, as the tests do."""
    from dagster import DagsterInstance, materialize

    from inventory_assets.defs.inventory_api.component import build_endpoints
    from inventory_assets.settings import settings_from_yaml

    settings = settings_from_yaml()
    inventory = build_endpoints(settings)["inventory_data"]
    # With `reconcile`, rows_match_api runs after the load, as the ingest job runs it.
    checked = [inventory.rows_match_api] if spec.get("reconcile") else []
    resources = _project_resources(spec, settings.api)
    if spec.get("partition"):
        selection: dict[str, Any] = {"partition_key": spec["partition"]}
    else:
        first, last = spec["partition_range"]
        selection = {
            "tags": {
                "dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last,
            }
        }
    with DagsterInstance.ephemeral() as instance:
        started = time.perf_counter()
        result = materialize(
            [inventory.assets, *checked], resources=resources, instance=instance, **selection
        )
        wall = time.perf_counter() - started
    if not result.success:
        raise RuntimeError("the project's materialization failed")
    return {"wall_s": wall, **_materialization_metadata(result), **_reconciliation(result)}


def _reconciliation(result: Any) -> dict[str, Any]:
    """What rows_match_api found and cost, where it ran: it must pass, contents compared."""
    evaluations = result.get_asset_check_evaluations()
    if not evaluations:
        return {}
    (evaluation,) = evaluations
    if not evaluation.passed or not evaluation.metadata["content_compared"].value:
        raise RuntimeError(f"rows_match_api did not pass: {evaluation.description}")
    return {"check_requests": evaluation.metadata["api_requests"].value}


def _project_resources(spec: dict[str, Any], api: ApiSettings) -> dict[str, Any]:
    """The vendor resource as the code location builds it from `api` (the settings'
    ApiSettings: the INVENTORY_* variables of the run, e.g. its quota), pointed at the
    simulator; the warehouse and dlt dirs in the run's own directory."""
    from inventory_assets.defs.inventory_api.resources import (
        DltWorkingDirResource,
        vendor_api_resource,
    )
    from inventory_assets.warehouse.duckdb_file import DuckDBDestinationResource
    from inventory_assets.warehouse.postgres import PostgresDestinationResource

    api_fields: dict[str, Any] = {"base_url": spec["url"], "api_key": _api_key()}
    if spec.get("max_concurrency") is not None:
        api_fields["max_concurrency"] = spec["max_concurrency"]
    postgres_url = os.environ.get(POSTGRES_URL_ENV)
    destination = (
        PostgresDestinationResource(url=postgres_url)
        if postgres_url
        else DuckDBDestinationResource(path=spec["duckdb_path"])
    )
    return {
        "inventory_vendor_api": vendor_api_resource(api, **api_fields),
        "inventory_destination": destination,
        "inventory_dlt_working_dir": DltWorkingDirResource(
            working_dir=str(Path(spec["workdir"]) / "dlt")
        ),
    }


def _materialization_metadata(result: Any) -> dict[str, Any]:
    """rows_loaded, requests, pages and retries as the asset reported them (first event)."""
    events = result.get_asset_materialization_events()
    if not events:
        return {}
    metadata = events[0].materialization.metadata
    wanted = {
        "inventory/rows_loaded": "rows_loaded",
        "inventory/requests": "client_requests",
        "inventory/pages_fetched": "pages",
    }
    found = {name: metadata[key].value for key, name in wanted.items() if key in metadata}
    retries = metadata.get("inventory/retries")
    found["retries"] = retries.value if retries is not None else None
    return found


def probe(spec: dict[str, Any]) -> dict[str, Any]:
    """Whether `VendorApiResource` has `max_concurrency` yet, and its default."""
    from inventory_assets.defs.inventory_api.resources import VendorApiResource

    field = VendorApiResource.model_fields.get("max_concurrency")
    default = None if field is None else field.get_default(call_default_factory=True)
    return {"wall_s": 0.0, "has_max_concurrency": field is not None, "max_concurrency": default}


def project_profile(spec: dict[str, Any]) -> dict[str, Any]:
    """`project` under cProfile, with the seconds of each phase (benchmarks/profile.py)."""
    from benchmarks.profile import profiled

    return profiled(project, spec)


WORKLOADS = {
    "raw": raw,
    "rest-client": rest_client,
    "plain-dlt": plain_dlt,
    "dlt-arrow": dlt_arrow,
    "project": project,
    "project-profile": project_profile,
    "probe": probe,
}
