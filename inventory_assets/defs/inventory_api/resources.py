"""Resources: the vendor's API, dlt's working directory, and the warehouse.

They are built once from the settings (`build_resources`); the secrets stay
`EnvVar`s, resolved where a run executes, so the definitions and the UI only
ever show the variable's name. The sensors, the checks and the loads get the
same resource objects, so a setting reaches all of them.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import dlt
from dagster import ConfigurableResource, DagsterInstance, DagsterRunStatus, EnvVar, Failure
from dlt.sources import DltSource
from pydantic import Field

from inventory_assets.lib.destinations import (
    DestinationResource,
    DuckDBDestinationResource,
    PostgresDestinationResource,
)
from inventory_assets.settings import EnvReference, InventorySettings
from inventory_assets.sources.inventory_api import (
    ApiOptions,
    Endpoint,
    ExtractStats,
    Window,
    inventory_source,
)
from inventory_assets.sources.inventory_api.changes import ChangeFeed

VENDOR_API_KEY = "vendor_api"
DESTINATION_KEY = "destination"
DLT_WORKING_DIR_KEY = "dlt_working_dir"
RUN_DIR_PREFIX = "inventory-dlt-"
ABANDONED_AFTER_SECONDS = 24 * 3600
# A live run touches its directory this often, so its age says when it was last alive.
HEARTBEAT_SECONDS = 600.0
FINISHED = frozenset(
    {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
)
# A sensor tick must finish well inside Dagster's evaluation timeout (60 s).
SENSOR_RETRIES = 1
# The resource's fields that describe how the vendor is called, named as in ApiOptions.
API_OPTION_FIELDS = tuple(field.name for field in fields(ApiOptions))


class VendorApiResource(ConfigurableResource):
    """The vendor's API: where it is, its key, and how it pages, windows and fails."""

    base_url: str = Field(description="Base URL of the API (set INVENTORY_API_BASE_URL)")
    api_key: str = Field(
        description="Secret key, sent as a query parameter (set INVENTORY_API_KEY)"
    )
    api_key_param: str = Field(default="api_key", description="Query parameter of the key")
    page_size: int = Field(default=100, ge=1, description="Records asked for per page")
    window_start_param: str = Field(
        default="updated_since", description="Query parameter of a window's inclusive start"
    )
    window_end_param: str = Field(
        default="updated_before", description="Query parameter of a window's exclusive end"
    )
    total_path: str = Field(
        default="total", description="Where a page says how many records match; empty: nowhere"
    )
    max_retries: int = Field(default=3, ge=0, description="Retries of a failed request")
    backoff_factor: float = Field(default=2.0, description="Exponential backoff factor (s)")
    request_timeout_seconds: float = Field(default=30.0, description="Timeout of one request")
    repage_passes: int = Field(
        default=2,
        ge=0,
        description=(
            "How many more times a window that came up short (records changed while it was"
            " paged) is paged before its load fails (INVENTORY_REPAGE_PASSES)"
        ),
    )
    max_concurrency: int = Field(
        default=8,
        ge=1,
        description=(
            "Most requests in flight at once: a range of days is fetched as daily"
            " sub-windows, this many at a time. Keep it within the vendor's rate limit."
        ),
    )

    def options(self, max_retries: int | None = None) -> ApiOptions:
        """How the source calls the vendor: this resource's fields of the same names."""
        options = ApiOptions(**{name: getattr(self, name) for name in API_OPTION_FIELDS})
        return options if max_retries is None else replace(options, max_retries=max_retries)

    def checked_base_url(self, endpoint: Endpoint) -> str:
        """The base URL, if requests can use it for this endpoint; else one clear line.

        Checked before the first request: requests' own errors for these ("No
        connection adapters were found", a 404 at the path twice) say nothing of
        the setting.
        """
        url = self.base_url.strip().rstrip("/")
        problem = None
        if not url.lower().startswith(("http://", "https://")):
            problem = f"has no scheme; set it to https://{url} (or http:// for a local API)"
        elif url.endswith(endpoint.path.rstrip("/")):
            problem = (
                f"ends with the endpoint's path {endpoint.path}, which is appended to it; "
                f"set it to {url.removesuffix(endpoint.path.rstrip('/'))}"
            )
        if problem:
            raise Failure(f"INVENTORY_API_BASE_URL={self.base_url!r} {problem}.")
        return url

    def source(
        self, endpoint: Endpoint, window: Window | None, mode: str, stats: ExtractStats
    ) -> DltSource:
        """The dlt source of one endpoint for one window, counting requests into `stats`."""
        return inventory_source(
            self.checked_base_url(endpoint),
            self.api_key,
            window,
            endpoint=endpoint,
            options=self.options(),
            mode=mode,
            split_daily=self.max_concurrency > 1,
            stats=stats,
        )

    def change_feed(self, endpoint: Endpoint, max_retries: int | None = None) -> ChangeFeed:
        """Light-weight reads of the listing, for the change sensor and the reconciliation."""
        base_url = self.checked_base_url(endpoint)
        return ChangeFeed(base_url, self.api_key, endpoint, self.options(max_retries))


class DltWorkingDirResource(ConfigurableResource):
    """Where dlt keeps its local working state during one run.

    Each run gets its own pipelines dir, removed afterwards: two partitions can
    run at once without sharing dlt's state, and a killed run leaves nothing
    that a later run would pick up (its directory is never read again). The
    window is pulled whole every run, so no local state needs to survive.

    A killed run's directory is pruned by a later run, once it is abandoned:
    its run is not in progress (the instance knows, by the run id in the
    directory's name) and nothing has touched it for a day. A live run touches
    its directory every `HEARTBEAT_SECONDS`, so a run longer than a day, of
    this instance or another sharing the folder, is never pruned.
    """

    working_dir: str | None = Field(
        default=None,
        description="Parent of the per-run dlt dirs (INVENTORY_DLT_WORKING_DIR; default: temp)",
    )

    @contextmanager
    def pipeline(
        self,
        pipeline_name: str,
        run_id: str,
        destination: DestinationResource,
        instance: DagsterInstance | None = None,
    ) -> Iterator[dlt.Pipeline]:
        """A fresh dlt pipeline in a private directory that is removed afterwards."""
        parent = Path(self.working_dir or tempfile.gettempdir())
        parent.mkdir(parents=True, exist_ok=True)
        _prune_abandoned(parent, instance)
        with (
            tempfile.TemporaryDirectory(prefix=f"{RUN_DIR_PREFIX}{run_id}-", dir=parent) as tmp,
            heartbeat(Path(tmp)),
        ):
            yield dlt.pipeline(
                pipeline_name=pipeline_name,
                pipelines_dir=tmp,
                destination=destination.dlt_destination(),
                dataset_name=destination.dataset_name,
                progress=None,
            )


@contextmanager
def heartbeat(directory: Path, interval: float = HEARTBEAT_SECONDS) -> Iterator[None]:
    """Touch `directory` every `interval` seconds while the block runs.

    dlt writes only into its subdirectories, so without this a run longer than
    the age limit would look abandoned from outside.
    """
    stopped = threading.Event()

    def beat() -> None:
        while not stopped.wait(interval):
            with contextlib.suppress(OSError):
                directory.touch()

    beating = threading.Thread(target=beat, name="dlt-dir-heartbeat", daemon=True)
    beating.start()
    try:
        yield
    finally:
        stopped.set()
        beating.join()


def _run_in_progress(leftover: Path, instance: DagsterInstance | None) -> bool:
    """Whether the instance knows the directory's run and it has not finished."""
    if instance is None:
        return False
    run_id = leftover.name.removeprefix(RUN_DIR_PREFIX)[:36]
    with contextlib.suppress(Exception):  # a name that holds no run id, a storage hiccup
        run = instance.get_run_by_id(run_id)
        return run is not None and run.status not in FINISHED
    return False


def _prune_abandoned(parent: Path, instance: DagsterInstance | None) -> None:
    """Remove run directories that killed runs left behind more than a day ago."""
    cutoff = time.time() - ABANDONED_AFTER_SECONDS
    for leftover in parent.glob(f"{RUN_DIR_PREFIX}*"):
        with contextlib.suppress(OSError):
            if (
                leftover.is_dir()
                and leftover.stat().st_mtime < cutoff
                and not _run_in_progress(leftover, instance)
            ):
                shutil.rmtree(leftover, ignore_errors=True)


def _env_or_value(value: EnvReference | str) -> Any:
    return EnvVar(value.env) if isinstance(value, EnvReference) else value


def destination_resource(settings: InventorySettings) -> DestinationResource:
    """The warehouse the settings name; a Postgres URL stays an `EnvVar`."""
    warehouse = settings.warehouse
    if warehouse.destination == "postgres":
        return PostgresDestinationResource(
            url=EnvVar(warehouse.postgres_url.env), dataset_name=warehouse.dataset
        )
    return DuckDBDestinationResource(
        path=warehouse.duckdb_path,
        dataset_name=warehouse.dataset,
        lock_timeout_seconds=warehouse.duckdb_lock_timeout_seconds,
        replica_path=warehouse.duckdb_replica_path,
    )


def build_resources(settings: InventorySettings) -> dict[str, Any]:
    """Every resource the inventory definitions need, keyed as their functions ask."""
    api = settings.api
    return {
        VENDOR_API_KEY: VendorApiResource(
            base_url=_env_or_value(api.base_url),
            api_key=EnvVar(api.api_key.env),
            max_concurrency=api.max_concurrency,
            repage_passes=api.repage_passes,
            **asdict(api.options()),
        ),
        DESTINATION_KEY: destination_resource(settings),
        DLT_WORKING_DIR_KEY: DltWorkingDirResource(working_dir=settings.warehouse.dlt_working_dir),
    }
