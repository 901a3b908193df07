"""`rows_match_api`: does the warehouse hold exactly the records the API counts for a partition?

Ingestion tools lose rows quietly; this check makes completeness visible per
partition. It asks the API for the window's `total` (one request, `limit=1`)
and counts the warehouse rows whose `updated_at` falls in the window. Equal
counts pass. Otherwise it warns and says what the difference means:

- more rows in the warehouse: records changed at the vendor after the load and
  now belong to a later day; the check names those days (from the change feed
  after the window), which the change sensor or a backfill should load;
- fewer rows in the warehouse: records are missing; for a window of up to
  `LISTING_LIMIT` records the check lists the API's ids and names the missing
  ids and their offsets, above that it only says which partition to re-run.

An empty warehouse for a window the API says is not empty fails: the check
never passes vacuously. It is partitioned like the asset, so it runs with every
materialization and can be run on its own for any partition.
"""

from collections import Counter
from dataclasses import dataclass, field

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    Failure,
    MetadataValue,
    asset_check,
)

from inventory_assets.defs.destinations import DestinationResource
from inventory_assets.defs.ingest import INVENTORY_DATA_KEY
from inventory_assets.defs.partitions import daily_partitions
from inventory_assets.defs.resources import InventoryApiResource
from inventory_assets.sources.inventory_api import Window, to_api_timestamp
from inventory_assets.sources.inventory_api import settings as api_settings
from inventory_assets.sources.inventory_api.changes import ChangeFeed
from inventory_assets.sources.inventory_api.errors import explain

LISTING_LIMIT = 2_000  # records; listing a window costs one request per 100
MOVED_SEARCH_PAGES = 20  # pages of the change feed searched for records that moved on
SAMPLE = 10


@dataclass
class Reconciliation:
    """Both sides of one window, and what explains a difference."""

    window: Window
    api_total: int
    warehouse_ids: set[int]
    missing: list[tuple[int, int]] = field(default_factory=list)  # (offset, id) at the API
    moved_days: Counter = field(default_factory=Counter)  # day -> records now dated there

    @property
    def difference(self) -> int:
        """Warehouse rows minus API records: > 0 moved on, < 0 missing."""
        return len(self.warehouse_ids) - self.api_total


def _warehouse_ids(destination: DestinationResource, window: Window) -> set[int]:
    """Ids of the rows whose `updated_at` is in the window (none before the first load)."""
    with destination.connect() as con:
        if not destination.has_table(con, api_settings.RESOURCE_NAME):
            return set()
        rows = con.fetchall(
            f"select id from {destination.table(api_settings.RESOURCE_NAME)}"
            " where updated_at >= %s and updated_at < %s",
            [window.start, window.end],
        )
    return {row[0] for row in rows}


def _find_missing(feed: ChangeFeed, found: Reconciliation) -> None:
    """List a small window at the API and keep the records the warehouse lacks."""
    if found.api_total > LISTING_LIMIT:
        return
    listed = feed.changes_since(
        to_api_timestamp(found.window.start),
        max_pages=LISTING_LIMIT // api_settings.PAGE_SIZE,
        before=to_api_timestamp(found.window.end),
    )
    found.missing = [
        (offset, change.id)
        for offset, change in enumerate(listed)
        if change.id not in found.warehouse_ids
    ]


def _find_moved(feed: ChangeFeed, found: Reconciliation) -> None:
    """Where the warehouse's rows of this window live now at the API, if later."""
    later = feed.changes_since(to_api_timestamp(found.window.end), max_pages=MOVED_SEARCH_PAGES)
    found.moved_days = Counter(
        change.moment.date().isoformat() for change in later if change.id in found.warehouse_ids
    )


def reconcile(feed: ChangeFeed, destination: DestinationResource, window: Window) -> Reconciliation:
    """Count both sides; look for explanations only when they differ."""
    api_total = feed.page(
        to_api_timestamp(window.start), limit=1, before=to_api_timestamp(window.end)
    ).total
    found = Reconciliation(window, api_total, _warehouse_ids(destination, window))
    if found.difference != 0:
        _find_missing(feed, found)
        _find_moved(feed, found)
    return found


def _span(window: Window) -> str:
    return f"[{window.start.isoformat()}, {window.end.isoformat()})"


def _describe(found: Reconciliation, partition: str) -> str:
    """What the numbers mean and what to do, in the check's description."""
    span, api, held = _span(found.window), found.api_total, len(found.warehouse_ids)
    if found.difference == 0:
        return f"{held} rows in the warehouse for {span}, as many as the API counts."
    parts = [f"The warehouse holds {held} rows for {span}; the API counts {api}."]
    if found.moved_days:
        days = ", ".join(sorted(found.moved_days))
        parts.append(
            f"{sum(found.moved_days.values())} of them changed at the vendor after the load "
            f"and now belong to later days: load partitions {days} (the change sensor does "
            "when it runs, or backfill them); this check then passes."
        )
    if found.difference < 0 or found.missing:
        missing = [record_id for _, record_id in found.missing]
        if missing:
            offsets = [offset for offset, _ in found.missing]
            parts.append(
                f"{len(missing)} records are missing: ids {missing[:SAMPLE]} (ids "
                f"{min(missing)}..{max(missing)}, API offsets {min(offsets)}..{max(offsets)})."
            )
        else:
            parts.append(f"{-found.difference} or more records are missing.")
        parts.append(f"Re-run partition {partition} to load them.")
    return " ".join(parts)


def _metadata(found: Reconciliation) -> dict[str, MetadataValue]:
    return {
        "api_total": MetadataValue.int(found.api_total),
        "warehouse_rows": MetadataValue.int(len(found.warehouse_ids)),
        "difference": MetadataValue.int(found.difference),
        "later_days_to_load": MetadataValue.json(dict(sorted(found.moved_days.items()))),
        "missing_ids": MetadataValue.json([record_id for _, record_id in found.missing][:SAMPLE]),
        "missing_offsets": MetadataValue.json([offset for offset, _ in found.missing][:SAMPLE]),
    }


def _partition_label(context: AssetCheckExecutionContext, window: Window) -> str:
    if context.has_partition_key:
        return context.partition_key
    return f"{window.start.date()}...{window.end.date()}"


@asset_check(
    asset=INVENTORY_DATA_KEY,
    name="rows_match_api",
    partitions_def=daily_partitions,
    blocking=False,
    description=(
        "The warehouse holds as many rows with `updated_at` in the partition's window as"
        " the API counts for it; on a difference, says which days to load or which ids"
        " are missing."
    ),
)
def rows_match_api(
    context: AssetCheckExecutionContext,
    inventory_api: InventoryApiResource,
    destination: DestinationResource,
) -> AssetCheckResult:
    start, end = context.partition_time_window
    window = Window(start, end)
    try:
        found = reconcile(inventory_api.change_feed(), destination, window)
    except Exception as error:
        explained = explain(error, inventory_api.base_url)
        if explained is None:
            raise
        failure = Failure(f"rows_match_api could not ask the API: {explained}")
    else:
        failure = None
    if failure:
        raise failure  # outside the except block: no chained traceback in the event log
    context.log.info(f"rows_match_api: API {found.api_total}, warehouse {len(found.warehouse_ids)}")
    return AssetCheckResult(
        passed=found.difference == 0 and not found.missing,
        severity=AssetCheckSeverity.WARN,
        description=_describe(found, _partition_label(context, window)),
        metadata=_metadata(found),
    )
