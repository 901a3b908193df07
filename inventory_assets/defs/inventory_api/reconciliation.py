"""`rows_match_api`: does the warehouse hold exactly the records the API counts?

Ingestion tools lose rows quietly; this check makes completeness visible per
partition (or, for an endpoint loaded whole, for the table). It asks the API
for the window's first page, whose total counts the window, and counts the
warehouse rows whose cursor (`updated_at`) falls in the window. A window of up
to `LISTING_LIMIT` records is listed too (one request per page), and so is any
window of a vendor without a total, which must be paged to be counted (up to
`COUNT_LIMIT` records): each key's `updated_at` is then compared with the
warehouse's, so an update the warehouse missed in place is found as well.
Equal counts and contents pass. Otherwise it warns and says what the
difference means:

- more rows in the warehouse: records changed at the vendor after the load and
  now belong to a later day; the check names those days (from the change feed
  after the window), which the change sensor or a backfill should load;
- fewer rows in the warehouse: records are missing; where the window was
  listed the check names the missing ids and their offsets, above that it only
  says which partition to re-run;
- rows whose `updated_at` is not the API's: updates missed; re-run the partition.

The check never passes without evidence: an empty warehouse for a window the
API says is not empty fails, and an API side that cannot be counted (no total
and more than `COUNT_LIMIT` records) is a non-passing warning that says why.
It is partitioned like the asset, so it runs with every materialization and can
be run on its own for any partition. It retries as a load does; an API it
cannot reach makes it warn with the reason (the data the run loaded stays
loaded), never fail the run.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from inventory_assets.defs.inventory_api.endpoint_spec import EndpointSpec
from inventory_assets.defs.inventory_api.resources import VendorApiResource
from inventory_assets.loading import describe_window
from inventory_assets.sources.inventory_api import Endpoint, Window, to_api_timestamp
from inventory_assets.sources.inventory_api.changes import Change, ChangeFeed
from inventory_assets.sources.inventory_api.errors import explain
from inventory_assets.warehouse.destination import DestinationResource

LISTING_LIMIT = 2_000  # records a window with a total is listed up to, for its contents
COUNT_LIMIT = 20_000  # records a check pages through when the API gives no total
MOVED_SEARCH_PAGES = 20  # pages of the change feed searched for records that moved on
SAMPLE = 10


@dataclass
class Reconciliation:
    """Both sides of one window, and what explains a difference."""

    window: Window | None
    api_total: int | None  # None: the API's side could not be counted
    warehouse: dict  # key -> cursor value (updated_at) of the warehouse's rows in the window
    mode: str = "window"
    unverified: str = ""  # why the API's side could not be counted, and what would fix it
    content_compared: bool = False  # each key's updated_at compared with the API's
    missing: list[tuple[int, object]] = field(default_factory=list)  # (offset, key) at the API
    stale: list = field(default_factory=list)  # keys whose updated_at differs from the API's
    moved_days: Counter = field(default_factory=Counter)  # day -> records now dated there
    gone: list = field(default_factory=list)  # warehouse keys the API no longer serves here
    api_requests: int = 0

    @property
    def difference(self) -> int:
        """Warehouse rows minus API records: > 0 moved on or gone, < 0 missing."""
        return len(self.warehouse) - (self.api_total or 0)

    @property
    def passed(self) -> bool:
        return (
            self.api_total is not None
            and self.difference == 0
            and not self.missing
            and not self.stale
        )


def _bounds(window: Window | None) -> tuple[str | None, str | None]:
    if window is None:
        return None, None
    return to_api_timestamp(window.start), to_api_timestamp(window.end)


def _warehouse_rows(
    destination: DestinationResource, endpoint: Endpoint, window: Window | None
) -> dict:
    """Key -> cursor value of the rows whose cursor is in the window (none before a load)."""
    key, cursor = endpoint.primary_key, endpoint.cursor_field
    with destination.connect() as con:
        if not destination.has_table(con, endpoint.name):
            return {}
        query = f"select {key}, {cursor} from {destination.table(endpoint.name)}"
        if window is None:
            return dict(con.fetchall(query))
        rows = con.fetchall(
            f"{query} where {cursor} >= %s and {cursor} < %s", [window.start, window.end]
        )
    return dict(rows)


def _compare(found: Reconciliation, listed: list[Change]) -> None:
    """Name what differs from the API's records of the window (`listed`): keys missing,
    rows whose updated_at is not the API's, and keys the API no longer lists here."""
    held = found.warehouse
    found.missing = [
        (offset, change.id) for offset, change in enumerate(listed) if change.id not in held
    ]
    found.stale = sorted(
        change.id
        for change in listed
        if change.id in held and not _same_moment(held[change.id], change.moment)
    )
    found.content_compared = True
    found.gone = sorted(held.keys() - {change.id for change in listed})


def _place(found: Reconciliation, elsewhere: dict) -> None:
    """Of the keys no longer listed, those now dated elsewhere (`elsewhere`: key -> day)."""
    found.moved_days = Counter(elsewhere[key] for key in found.gone if key in elsewhere)
    found.gone = [key for key in found.gone if key not in elsewhere]


def _same_moment(held: object, moment: datetime) -> bool:
    return isinstance(held, datetime) and held == moment


def _reconcile_windowed(feed: ChangeFeed, found: Reconciliation) -> None:
    """The API counts and lists the window itself (sync mode `window`).

    With a total the count costs one request, and the window is listed (for its
    contents) up to LISTING_LIMIT records; without one, the window is paged to
    count it, up to COUNT_LIMIT records, and its contents come with the pages.
    """
    since, before = _bounds(found.window)
    total = feed.first(since, before).total
    if total is not None and total > LISTING_LIMIT:
        found.api_total = total
        return
    listed = feed.changes_since(since, feed.pages_for(COUNT_LIMIT), before=before)
    if total is None and len(listed) >= COUNT_LIMIT:
        found.unverified = (
            f"the API gives no total and the window holds more than {COUNT_LIMIT} records, "
            "more than a check pages through; configure the page's total (total_path, "
            "INVENTORY_TOTAL_PATH) to make it countable in one request"
        )
        return
    found.api_total = total if total is not None else len({change.id for change in listed})
    _compare(found, listed)
    if found.gone and before:
        later = feed.changes_since(before, MOVED_SEARCH_PAGES)
        _place(found, {change.id: change.moment.date().isoformat() for change in later})


def _reconcile_whole(feed: ChangeFeed, found: Reconciliation) -> None:
    """The whole listing, paged here and cut to the window (client_window and full)."""
    listing = feed.changes_since(None, feed.pages_for(COUNT_LIMIT))
    if len(listing) >= COUNT_LIMIT:
        found.unverified = (
            f"the whole listing holds more than {COUNT_LIMIT} records, more than a check pages "
            "through; its loads compare every page with the total as they go"
        )
        return
    window = found.window
    inside, elsewhere = [], {}
    for change in listing:
        if window is None or window.start <= change.moment < window.end:
            inside.append(change)
        else:
            elsewhere[change.id] = change.moment.date().isoformat()
    found.api_total = len(inside)
    _compare(found, inside)
    _place(found, elsewhere)


def reconcile(
    feed: ChangeFeed,
    destination: DestinationResource,
    endpoint: Endpoint,
    window: Window | None,
) -> Reconciliation:
    """Count both sides, and compare each key's updated_at where the window was listed."""
    mode = endpoint.sync_mode
    found = Reconciliation(window, None, _warehouse_rows(destination, endpoint, window), mode)
    if mode == "window" and window is not None:
        _reconcile_windowed(feed, found)
    else:
        _reconcile_whole(feed, found)
    found.api_requests = feed.requests
    return found


def _describe(found: Reconciliation, partition: str) -> str:
    """What the numbers mean and what to do, in the check's description."""
    span, api, held = describe_window(found.window), found.api_total, len(found.warehouse)
    if api is None:
        return (
            f"Not verified: the warehouse holds {held} rows for {span}, but the API's side "
            f"could not be counted ({found.unverified}). The load itself checked what it paged."
        )
    if found.passed:
        contents = (
            "and every row's updated_at is the API's"
            if found.content_compared
            else f"(contents not compared: the window holds more than {LISTING_LIMIT} records)"
        )
        return (
            f"{held} rows in the warehouse for {span}, as many as the API counts, {contents} "
            f"({found.api_requests} API requests)."
        )
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
    if found.stale:
        parts.append(
            f"{len(found.stale)} rows differ from the API's records (updated_at; ids "
            f"{found.stale[:SAMPLE]}): updates the warehouse missed. Re-run {partition} to "
            "load them."
        )
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
        "verified": MetadataValue.bool(found.api_total is not None),
        "warehouse_rows": MetadataValue.int(len(found.warehouse)),
        "difference": MetadataValue.int(found.difference),
        "content_compared": MetadataValue.bool(found.content_compared),
        "stale_ids": MetadataValue.json(found.stale[:SAMPLE]),
        "api_requests": MetadataValue.int(found.api_requests),
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


def build_rows_match_api(table: EndpointSpec) -> AssetChecksDefinition:
    """The reconciliation of one table with its listing, partitioned like its asset."""
    endpoint, partitions_def = table.endpoint, table.partitions_def

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
    @table.resources.injected
    def _rows_match_api(
        context: AssetCheckExecutionContext,
        vendor_api: VendorApiResource,
        destination: DestinationResource,
    ) -> AssetCheckResult:
        window = _window(context, partitions_def is not None)
        feed = vendor_api.change_feed(endpoint)
        try:
            found = reconcile(feed, destination, endpoint, window)
        except Exception as error:
            explained = explain(error, vendor_api.base_url, feed.retries)
            if explained is None:
                raise
            return _unreachable(explained, _label(context, window))
        context.log.info(f"rows_match_api: API {found.api_total}, warehouse {len(found.warehouse)}")
        return AssetCheckResult(
            passed=found.passed,
            severity=AssetCheckSeverity.WARN,
            description=_describe(found, _label(context, window)),
            metadata={**_metadata(found), "api_reachable": MetadataValue.bool(True)},
        )

    return _rows_match_api
