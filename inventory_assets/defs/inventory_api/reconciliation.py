"""`rows_match_api`: does the warehouse hold exactly the records the API counts?

Ingestion tools lose rows quietly; this check makes completeness visible per
partition (or, for an endpoint loaded whole, for the table). It asks the API
for the window's total (one request, `limit=1`) and counts the warehouse rows
whose cursor (`updated_at`) falls in the window. Equal
counts pass. Otherwise it warns and says what the difference means:

- more rows in the warehouse: records changed at the vendor after the load and
  now belong to a later day; the check names those days (from the change feed
  after the window), which the change sensor or a backfill should load;
- fewer rows in the warehouse: records are missing; for a window of up to
  `LISTING_LIMIT` records the check lists the API's ids and names the missing
  ids and their offsets, above that it only says which partition to re-run.

An empty warehouse for a window the API says is not empty fails: the check
never passes vacuously. It is partitioned like the asset, so it runs with every
materialization and can be run on its own for any partition. It retries as a
load does; an API it cannot reach makes it warn with the reason (the data the
run loaded stays loaded), never fail the run.
"""

from collections import Counter
from dataclasses import dataclass, field

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    MetadataValue,
    PartitionsDefinition,
    asset_check,
)

from inventory_assets.defs.inventory_api.checks import CheckedTable
from inventory_assets.defs.inventory_api.resources import VendorApiResource
from inventory_assets.lib.destinations import DestinationResource
from inventory_assets.lib.loading import describe_window
from inventory_assets.sources.inventory_api import Endpoint, Window, to_api_timestamp
from inventory_assets.sources.inventory_api.changes import Change, ChangeFeed
from inventory_assets.sources.inventory_api.errors import explain

LISTING_LIMIT = 2_000  # records; listing a window costs one request per page
WHOLE_LISTING_LIMIT = 20_000  # records a check may page through for a vendor that cannot filter
MOVED_SEARCH_PAGES = 20  # pages of the change feed searched for records that moved on
SAMPLE = 10


@dataclass
class Reconciliation:
    """Both sides of one window, and what explains a difference."""

    window: Window | None
    api_total: int | None  # None: the API's side could not be counted
    warehouse_ids: set
    mode: str = "window"
    missing: list[tuple[int, object]] = field(default_factory=list)  # (offset, key) at the API
    moved_days: Counter = field(default_factory=Counter)  # day -> records now dated there
    gone: list = field(default_factory=list)  # warehouse keys the API no longer serves here

    @property
    def difference(self) -> int:
        """Warehouse rows minus API records: > 0 moved on or gone, < 0 missing."""
        return len(self.warehouse_ids) - (self.api_total or 0)

    @property
    def passed(self) -> bool:
        return self.api_total is not None and self.difference == 0 and not self.missing


def _bounds(window: Window | None) -> tuple[str | None, str | None]:
    if window is None:
        return None, None
    return to_api_timestamp(window.start), to_api_timestamp(window.end)


def _warehouse_ids(
    destination: DestinationResource, endpoint: Endpoint, window: Window | None
) -> set:
    """Keys of the rows whose cursor is in the window (none before the first load)."""
    key, cursor = endpoint.primary_key, endpoint.cursor_field
    with destination.connect() as con:
        if not destination.has_table(con, endpoint.name):
            return set()
        query = f"select {key} from {destination.table(endpoint.name)}"
        if window is None:
            return {row[0] for row in con.fetchall(query)}
        rows = con.fetchall(
            f"{query} where {cursor} >= %s and {cursor} < %s", [window.start, window.end]
        )
    return {row[0] for row in rows}


def _compare(found: Reconciliation, listed: list[Change], elsewhere: dict) -> None:
    """Name what differs, from the API's records of the window (`listed`) and, where known,
    where the others now are (`elsewhere`: key -> day)."""
    at_api = {change.id for change in listed}
    found.missing = [
        (offset, change.id)
        for offset, change in enumerate(listed)
        if change.id not in found.warehouse_ids
    ]
    extra = found.warehouse_ids - at_api
    found.moved_days = Counter(elsewhere[key] for key in extra if key in elsewhere)
    found.gone = sorted(key for key in extra if key not in elsewhere)


def _reconcile_windowed(feed: ChangeFeed, found: Reconciliation, page_size: int) -> None:
    """The API counts and lists the window itself (sync mode `window`)."""
    since, before = _bounds(found.window)
    found.api_total = feed.count(since, before, LISTING_LIMIT // page_size)
    if found.api_total is None or (found.difference == 0 and found.api_total > LISTING_LIMIT):
        return
    if found.difference != 0 and found.api_total <= LISTING_LIMIT:
        listed = feed.changes_since(since, LISTING_LIMIT // page_size + 1, before=before)
        later = feed.changes_since(before, MOVED_SEARCH_PAGES) if before else []
        _compare(found, listed, {c.id: c.moment.date().isoformat() for c in later})


def _reconcile_whole(feed: ChangeFeed, found: Reconciliation, page_size: int) -> None:
    """The whole listing, paged here and cut to the window (client_window and full)."""
    listing = feed.changes_since(None, WHOLE_LISTING_LIMIT // page_size + 1)
    if len(listing) > WHOLE_LISTING_LIMIT:
        return  # api_total stays None: too large to count per check
    window = found.window
    inside, elsewhere = [], {}
    for change in listing:
        if window is None or window.start <= change.moment < window.end:
            inside.append(change)
        else:
            elsewhere[change.id] = change.moment.date().isoformat()
    found.api_total = len(inside)
    _compare(found, inside, elsewhere)


def reconcile(
    feed: ChangeFeed,
    destination: DestinationResource,
    endpoint: Endpoint,
    window: Window | None,
    page_size: int,
    mode: str = "window",
) -> Reconciliation:
    """Count both sides; look for explanations only when they differ."""
    found = Reconciliation(window, None, _warehouse_ids(destination, endpoint, window), mode)
    if mode == "window" and window is not None:
        _reconcile_windowed(feed, found, page_size)
    else:
        _reconcile_whole(feed, found, page_size)
    return found


def _describe(found: Reconciliation, partition: str) -> str:
    """What the numbers mean and what to do, in the check's description."""
    span, api, held = describe_window(found.window), found.api_total, len(found.warehouse_ids)
    if api is None:
        return (
            f"The warehouse holds {held} rows for {span}; the API's side could not be counted "
            "(no total, and more records than a check pages through). The load itself "
            "checked what it paged."
        )
    if found.passed:
        return f"{held} rows in the warehouse for {span}, as many as the API counts."
    parts = [f"The warehouse holds {held} rows for {span}; the API counts {api}."]
    if found.moved_days:
        days = ", ".join(sorted(found.moved_days))
        parts.append(
            f"{sum(found.moved_days.values())} of them changed at the vendor after the load "
            f"and now belong to later days: load partitions {days} (the change sensor does "
            "when it runs, or backfill them); this check then passes."
        )
    if found.gone:
        parts.append(_gone_advice(found))
    if found.difference < 0 or found.missing:
        parts.append(_missing_advice(found, partition))
    return " ".join(parts)


def _gone_advice(found: Reconciliation) -> str:
    gone = found.gone
    where = "for this window" if found.window else "in its listing"
    fix = (
        "set INVENTORY_SYNC_MODE=client_window (or full) with INVENTORY_DELETES=flag or delete"
        " to have them flagged or deleted by the next load, or delete them by hand"
        if found.mode == "window"
        else "set INVENTORY_DELETES=flag or delete to have the next load flag or delete them"
    )
    return (
        f"{len(gone)} rows are no longer served by the API {where} (ids {gone[:SAMPLE]}): "
        f"deleted at the vendor, or loaded from elsewhere. They stay in the warehouse; {fix}."
    )


def _missing_advice(found: Reconciliation, partition: str) -> str:
    missing = [record_id for _, record_id in found.missing]
    if not missing:
        return f"{-found.difference} or more records are missing. Re-run {partition} to load them."
    offsets = [offset for offset, _ in found.missing]
    return (
        f"{len(missing)} records are missing: ids {missing[:SAMPLE]} (ids "
        f"{min(missing)}..{max(missing)}, API offsets {min(offsets)}..{max(offsets)}). "
        f"Re-run {partition} to load them."
    )


def _metadata(found: Reconciliation) -> dict[str, MetadataValue]:
    return {
        "api_total": MetadataValue.int(found.api_total if found.api_total is not None else -1),
        "warehouse_rows": MetadataValue.int(len(found.warehouse_ids)),
        "difference": MetadataValue.int(found.difference),
        "later_days_to_load": MetadataValue.json(dict(sorted(found.moved_days.items()))),
        "missing_ids": MetadataValue.json([record_id for _, record_id in found.missing][:SAMPLE]),
        "missing_offsets": MetadataValue.json([offset for offset, _ in found.missing][:SAMPLE]),
        "no_longer_served": MetadataValue.json(found.gone[:SAMPLE]),
    }


def _window(context: AssetCheckExecutionContext, partitioned: bool) -> Window | None:
    return Window(*context.partition_time_window) if partitioned else None


def _label(context: AssetCheckExecutionContext, window: Window | None) -> str:
    if window is None:
        return "the load"
    if context.has_partition_key:
        return f"partition {context.partition_key}"
    return f"partitions {window.start.date()}...{window.end.date()}"


def _unreachable(explained: Exception, label: str) -> AssetCheckResult:
    """The API could not be asked: a warning with the reason, not a failed run."""
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"rows_match_api could not ask the API: {explained} The rows this run loaded are "
            f"kept; run the reconciliation again for {label} when the API answers."
        ),
        metadata={"api_reachable": MetadataValue.bool(False)},
    )


def build_rows_match_api(
    table: CheckedTable, partitions_def: PartitionsDefinition | None, mode: str = "window"
) -> AssetChecksDefinition:
    """The reconciliation of one table with its listing, partitioned like its asset."""
    endpoint = table.endpoint

    @asset_check(
        asset=table.key,
        name="rows_match_api",
        partitions_def=partitions_def,
        blocking=False,
        description=(
            f"The warehouse holds as many rows of `{endpoint.name}` as the API counts"
            + (" for the partition's window" if partitions_def else "")
            + "; on a difference, says which days to load or which keys are missing."
        ),
    )
    def _rows_match_api(
        context: AssetCheckExecutionContext,
        vendor_api: VendorApiResource,
        destination: DestinationResource,
    ) -> AssetCheckResult:
        window = _window(context, partitions_def is not None)
        feed = vendor_api.change_feed(endpoint)
        try:
            found = reconcile(feed, destination, endpoint, window, vendor_api.page_size, mode)
        except Exception as error:
            explained = explain(error, vendor_api.base_url, feed.retries)
            if explained is None:
                raise
            return _unreachable(explained, _label(context, window))
        context.log.info(
            f"rows_match_api: API {found.api_total}, warehouse {len(found.warehouse_ids)}"
        )
        return AssetCheckResult(
            passed=found.passed or found.api_total is None,
            severity=AssetCheckSeverity.WARN,
            description=_describe(found, _label(context, window)),
            metadata={**_metadata(found), "api_reachable": MetadataValue.bool(True)},
        )

    return _rows_match_api
