"""Resources: the API (base URL and secret key) and the dlt pipeline; the
warehouse's are in `destinations.py`.

Configuration flows one way: environment -> these resources -> the dlt source.
Nothing else in the project reads the API key or the destination's location.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dlt
from dagster import ConfigurableResource
from dlt.sources import DltSource
from pydantic import Field

from inventory_assets.defs.destinations import DestinationResource
from inventory_assets.sources.inventory_api import ExtractStats, Window, inventory_source
from inventory_assets.sources.inventory_api import settings as api_settings
from inventory_assets.sources.inventory_api.changes import ChangeFeed

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
    def pipeline(self, run_id: str, destination: DestinationResource) -> Iterator[dlt.Pipeline]:
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
