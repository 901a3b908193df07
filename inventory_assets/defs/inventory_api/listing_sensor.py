"""The change sensor of an endpoint loaded from its whole listing (sync modes client_window, full).

Such a vendor cannot be asked for "what changed since T", so the sensor compares
a cheap signature of the listing instead: its total and its newest records (the
listing is ordered oldest first, so they are at its tail), two small requests a
tick. When the signature moves, a `full` endpoint gets one run; a
`client_window` endpoint gets one run per day of the records newer than the
last signature's newest, read from the tail of the listing. The signature
keeps the ids at its newest instant, as the window sensor's cursor does, so a
new record with exactly that `updated_at` is not taken for one already seen. A
deletion that changes only the total cannot be placed on a day: it is loaded
with the next change, or by the daily schedule.
"""

import json
from dataclasses import asdict, dataclass, field

from dagster import (
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
)

from inventory_assets.defs.inventory_api.endpoint_spec import EndpointSpec
from inventory_assets.defs.inventory_api.jobs import AssetJob
from inventory_assets.defs.inventory_api.resources import SENSOR_RETRIES, VendorApiResource
from inventory_assets.defs.inventory_api.sensors import (
    API_ERRORS,
    MAX_PAGES_PER_TICK,
    change_sensor,
    requestable,
    run_requests_per_day,
    skipped_for,
)
from inventory_assets.sources.inventory_api.changes import Change, ChangeFeed, parse_api_timestamp

# Why a listing cannot be watched cheaply, and what to use instead.
UNSEEKABLE = (
    "A {style} listing cannot be watched cheaply: its signature needs the listing's tail,"
    " which only offset paging reaches in one request. Its daily schedule ({job}'s) keeps it"
    " loaded; turn this sensor off."
)
NO_TOTAL = (
    "The API's pages carry no total: there is no signature to watch. Its daily schedule"
    " ({job}'s) keeps it loaded; turn this sensor off."
)


@dataclass(frozen=True)
class Signature:
    """What the listing looked like: how many records, the newest of them, and the ids of
    every record at the newest instant."""

    total: int
    newest_id: object = None
    newest_at: str | None = None
    newest_ids: list = field(default_factory=list)

    @classmethod
    def parse(cls, text: str | None) -> "Signature | None":
        return cls(**json.loads(text)) if text else None

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)

    @property
    def run_key(self) -> str:
        return f"listing:{self.total}:{self.newest_id}:{self.newest_at}"


def _signature(feed: ChangeFeed, page_size: int) -> Signature | None:
    """Two requests: the total, then the tail of the listing. None without a total."""
    total = feed.seek(0, 1).total
    if total is None:
        return None
    if total == 0:
        return Signature(0)
    tail = feed.seek(max(0, total - page_size), min(total, page_size)).changes
    newest = tail[-1]
    at_newest = sorted(c.id for c in tail if c.moment == newest.moment)
    return Signature(total, newest.id, newest.updated_at, at_newest)


def _is_new(change: Change, before: Signature) -> bool:
    """Newer than the last signature's newest instant, or at it and not seen then."""
    if before.newest_at is None:
        return True
    since = parse_api_timestamp(before.newest_at)
    return change.moment > since or (change.moment == since and change.id not in before.newest_ids)


def _newer_than(feed: ChangeFeed, before: Signature, now: Signature, page_size: int) -> list:
    """The records at the tail of the listing new since `before`, oldest first.

    Pages are read backwards from the end until one starts before `before`'s
    newest instant: every record before it is older still.
    """
    since = parse_api_timestamp(before.newest_at) if before.newest_at else None
    newer: list[Change] = []
    end = now.total
    for _ in range(MAX_PAGES_PER_TICK):
        start = max(0, end - page_size)
        page = feed.seek(start, end - start).changes
        newer = [change for change in page if _is_new(change, before)] + newer
        if start == 0 or not page or (since is not None and page[0].moment < since):
            break
        end = start
    return newer


def build_listing_sensor(
    spec: EndpointSpec, job: AssetJob, interval_seconds: int
) -> SensorDefinition:
    """Loads the endpoint again when its listing's signature changes (see the module)."""
    endpoint, partitions = spec.endpoint, spec.partitions_def

    @change_sensor(
        spec, job, interval_seconds, f"Loads {endpoint.name} again when its listing changes."
    )
    def _listing_sensor(
        context: SensorEvaluationContext, vendor_api: VendorApiResource
    ) -> SensorResult | SkipReason:
        before = Signature.parse(context.cursor)
        feed = vendor_api.change_feed(endpoint, max_retries=SENSOR_RETRIES)
        page_size = feed.page_size
        if page_size is None:
            return SkipReason(UNSEEKABLE.format(style=endpoint.paginator.type, job=job.name))
        try:
            now = _signature(feed, page_size)
            if now is None:
                return SkipReason(NO_TOTAL.format(job=job.name))
            if before is None or now == before:
                return SensorResult(
                    skip_reason=f"The listing holds {now.total} records.", cursor=now.dump()
                )
            if partitions is None:
                return SensorResult(
                    run_requests=[RunRequest(run_key=now.run_key)], cursor=now.dump()
                )
            changes = _newer_than(feed, before, now, page_size)
        except API_ERRORS as error:
            return skipped_for(error, vendor_api, feed, "read the listing")
        run_requests = run_requests_per_day(
            context, spec, requestable(changes, partitions), partitions
        )
        return SensorResult(run_requests=run_requests, cursor=now.dump())

    return _listing_sensor
