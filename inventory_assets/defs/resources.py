"""Resources: the API (base URL and secret key), the destination, the dlt pipeline.

Configuration flows one way: environment -> these resources -> the dlt source.
Nothing else in the project reads the API key or the destination's location.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dlt
import duckdb
from dagster import ConfigurableResource
from dlt.common.destination import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.sources import DltSource
from pydantic import Field

from inventory_assets.sources.inventory_api import ExtractStats, Window, inventory_source
from inventory_assets.sources.inventory_api import settings as api_settings
from inventory_assets.sources.inventory_api.changes import ChangeFeed

# Not `inventory.duckdb`: DuckDB names the catalog after the file, and a catalog
# named like the `inventory` schema makes every `inventory.<table>` ambiguous.
DEFAULT_DUCKDB_PATH = "data/warehouse.duckdb"
DATASET_NAME = "inventory"
DEFAULT_MAX_CONCURRENCY = 8
PIPELINE_NAME = "inventory"
RUN_DIR_PREFIX = "inventory-dlt-"
ABANDONED_AFTER_SECONDS = 24 * 3600


class InventoryApiResource(ConfigurableResource):
    """The vendor's inventory API; `api_key` should come from `EnvVar`, never a literal."""

    base_url: str = Field(description="Base URL of the API, e.g. https://api.example.com")
    api_key: str = Field(description="Secret key, sent as the `api_key` query parameter")
    window_start_param: str = Field(
        default=api_settings.WINDOW_START_PARAM,
        description="Query parameter for the inclusive start of a time window",
    )
    window_end_param: str = Field(
        default=api_settings.WINDOW_END_PARAM,
        description="Query parameter for the exclusive end of a time window",
    )
    backoff_factor: float = Field(
        default=api_settings.BACKOFF_FACTOR,
        description="Exponential backoff factor between retries (seconds)",
    )
    request_timeout_seconds: float = Field(
        default=api_settings.REQUEST_TIMEOUT_SECONDS,
        description="Timeout of one HTTP request",
    )
    max_concurrency: int = Field(
        default=DEFAULT_MAX_CONCURRENCY,
        ge=1,
        description=(
            "Most requests in flight at once: a range of days is fetched as daily"
            " sub-windows, this many at a time. Keep it within the vendor's rate limit."
        ),
    )

    def source(self, window: Window, stats: ExtractStats) -> DltSource:
        """The dlt source for one window, counting requests into `stats`."""
        return inventory_source(
            self.base_url,
            self.api_key,
            window,
            window_start_param=self.window_start_param,
            window_end_param=self.window_end_param,
            backoff_factor=self.backoff_factor,
            request_timeout=self.request_timeout_seconds,
            split_daily=self.max_concurrency > 1,
            stats=stats,
        )

    def change_feed(self) -> ChangeFeed:
        """The light-weight client the change sensor and the reconciliation check read with."""
        return ChangeFeed(
            self.base_url,
            self.api_key,
            window_start_param=self.window_start_param,
            window_end_param=self.window_end_param,
        )


class DuckDBDestinationResource(ConfigurableResource):
    """The DuckDB file the inventory dataset lives in.

    DuckDB admits one writing process at a time, so writers take an advisory
    file lock next to the database; everything before the load runs unlocked.
    """

    path: str = Field(default=DEFAULT_DUCKDB_PATH, description="Path of the DuckDB file")
    dataset_name: str = Field(default=DATASET_NAME, description="Schema that holds the tables")
    load_memory_limit: str = Field(
        default="128MB",
        description=(
            "DuckDB's memory limit while loading: a large merge spills to disk instead of"
            " growing the run's process (DuckDB's own default is 80% of RAM)."
        ),
    )

    @property
    def database_path(self) -> Path:
        """The file's absolute path; refuses a file named like the dataset."""
        path = Path(self.path).expanduser().resolve()
        if path.stem == self.dataset_name:
            raise ValueError(
                f"INVENTORY_DUCKDB_PATH {self.path!r} names the DuckDB catalog "
                f"{path.stem!r}, the same as the dataset {self.dataset_name!r}; DuckDB "
                f"then cannot resolve `{self.dataset_name}.<table>`. Give the file another "
                f"name, e.g. {DEFAULT_DUCKDB_PATH!r}."
            )
        return path

    def dlt_destination(self) -> Destination:
        self.database_path.parent.mkdir(parents=True, exist_ok=True)
        credentials = DuckDbCredentials(
            str(self.database_path),
            global_config={
                "memory_limit": self.load_memory_limit,
                # Merging needs no row order, and keeping it costs memory on big loads.
                "preserve_insertion_order": False,
            },
        )
        return dlt.destinations.duckdb(credentials=credentials)

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the database's single-writer lock across processes."""
        lock_path = self.database_path.with_name(self.database_path.name + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for the SQL that checks and downstream assets run in the warehouse.

        It holds the write lock too: DuckDB refuses even a reader while another
        process writes.
        """
        with self.write_lock(), duckdb.connect(str(self.database_path)) as connection:
            yield connection

    def table(self, name: str) -> str:
        """The qualified name of a table in the dataset."""
        return f"{self.dataset_name}.{name}"

    def has_table(self, con: duckdb.DuckDBPyConnection, name: str) -> bool:
        """Whether a load has created the table `name` in the dataset yet."""
        found = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [self.dataset_name, name],
        ).fetchone()
        return bool(found and found[0])


class DltPipelineResource(ConfigurableResource):
    """Where dlt keeps its local working state during one run.

    Each run gets its own pipelines dir, removed afterwards: two partitions can
    run at once without sharing dlt's state, and a killed run leaves nothing
    that a later run would pick up (its directory is never read again, and is
    pruned after a day). The window is pulled whole every run, so no local
    state needs to survive.
    """

    pipeline_name: str = Field(default=PIPELINE_NAME)
    working_dir: str | None = Field(
        default=None,
        description="Parent of the per-run dlt pipelines dirs (default: the system temp dir)",
    )

    @contextmanager
    def pipeline(
        self, run_id: str, destination: DuckDBDestinationResource
    ) -> Iterator[dlt.Pipeline]:
        """A fresh dlt pipeline in a private directory that is removed afterwards."""
        parent = Path(self.working_dir or tempfile.gettempdir())
        parent.mkdir(parents=True, exist_ok=True)
        _prune_abandoned(parent)
        with tempfile.TemporaryDirectory(
            prefix=f"{RUN_DIR_PREFIX}{run_id[:8]}-", dir=parent
        ) as tmp:
            yield dlt.pipeline(
                pipeline_name=self.pipeline_name,
                pipelines_dir=tmp,
                destination=destination.dlt_destination(),
                dataset_name=destination.dataset_name,
                progress=None,
            )


def _prune_abandoned(parent: Path) -> None:
    """Remove run directories that killed runs left behind more than a day ago."""
    cutoff = time.time() - ABANDONED_AFTER_SECONDS
    for leftover in parent.glob(f"{RUN_DIR_PREFIX}*"):
        with contextlib.suppress(OSError):
            if leftover.is_dir() and leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)
