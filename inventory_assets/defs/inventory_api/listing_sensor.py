"""The change sensor of an endpoint loaded from its whole listing (sync modes client_window, full).

Such a vendor cannot be asked for "what changed since T", so the sensor compares
a cheap signature of the listing instead: its total and its newest record (the
listing is ordered oldest first, so that is the last one), two small requests a
tick. When the signature moves, a `full` endpoint gets one run; a
`client_window` endpoint gets one run per day of the records newer than the
last signature's newest, read from the tail of the listing. A deletion that
changes only the total cannot be placed on a day: it is loaded with the next
change, or by the daily schedule.
"""

import json
from dataclasses import asdict, dataclass

from dagster import (
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    TimeWindowPartitionsDefinition,
)

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
from inventory_assets.sources.inventory_api import Endpoint
from inventory_assets.sources.inventory_api.changes import Change, ChangeFeed, parse_api_timestamp


@dataclass(frozen=True)
class Signature:
    """What the listing looked like: how many records, and the newest of them."""

    total: int
    newest_id: object = None
    newest_at: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> "Signature | None":
        return cls(**json.loads(text)) if text else None

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)

    @property
    def run_key(self) -> str:
        return f"listing:{self.total}:{self.newest_id}:{self.newest_at}"


def _signature(feed: ChangeFeed) -> Signature | None:
    """Two requests: the total, then the last record. None without a total."""
    total = feed.page(None, limit=1).total
    if total is None:
        return None
    if total == 0:
        return Signature(0)
    (newest,) = feed.page(None, offset=total - 1, limit=1).changes
    return Signature(total, newest.id, newest.updated_at)


def _newer_than(feed: ChangeFeed, before: Signature, now: Signature, page_size: int) -> list:
    """The records at the tail of the listing newer than `before`'s newest, oldest first."""
    since = parse_api_timestamp(before.newest_at) if before.newest_at else None
    newer: list[Change] = []
    end = now.total
    for _ in range(MAX_PAGES_PER_TICK):
        start = max(0, end - page_size)
        page = feed.page(None, offset=start, limit=end - start).changes
        fresh = [c for c in page if since is None or c.moment > since]
        newer = fresh + newer
        if start == 0 or len(fresh) < len(page):
            break
        end = start
    return newer


def build_listing_sensor(
    endpoint: Endpoint,
    job: AssetJob,
    partitions: TimeWindowPartitionsDefinition | None,
    interval_seconds: int,
) -> SensorDefinition:
    """Loads the endpoint again when its listing's signature changes (see the module)."""

    @change_sensor(
        endpoint, job, interval_seconds, f"Loads {endpoint.name} again when its listing changes."
    )
    def _listing_sensor(
        context: SensorEvaluationContext, vendor_api: VendorApiResource
    ) -> SensorResult | SkipReason:
        before = Signature.parse(context.cursor)
        feed = vendor_api.change_feed(endpoint, max_retries=SENSOR_RETRIES)
        try:
            now = _signature(feed)
            if now is None:
                return SkipReason("The API's pages carry no total: there is no signature to watch.")
            if before is None or now == before:
                return SensorResult(
                    skip_reason=f"The listing holds {now.total} records.", cursor=now.dump()
                )
            if partitions is None:
                return SensorResult(
                    run_requests=[RunRequest(run_key=now.run_key)], cursor=now.dump()
                )
            changes = _newer_than(feed, before, now, vendor_api.page_size)
        except API_ERRORS as error:
            return skipped_for(error, vendor_api, feed, "read the listing")
        run_requests = run_requests_per_day(
            context, endpoint, requestable(changes, partitions), partitions
        )
        return SensorResult(run_requests=run_requests, cursor=now.dump())

    return _listing_sensor
