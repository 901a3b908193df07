"""Sensors and schedules that keep the ingested tables and their downstream fresh.

A change sensor (`<group>__<endpoint>_change_sensor`) follows the vendor's own
clock, never ours: its cursor is the `updated_at` of the newest change it has
requested a run for, plus the ids it saw at exactly that instant (the API's
`updated_since` is inclusive).
Each tick makes one small request to learn whether anything changed; only then
does it page the change set and request one run per changed day.
"""

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import requests
from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    TimeWindowPartitionsDefinition,
    schedule,
    sensor,
)

from inventory_assets.defs.inventory_api.assets import change_notice_config
from inventory_assets.defs.inventory_api.endpoint_spec import EndpointSpec
from inventory_assets.defs.inventory_api.jobs import AssetJob
from inventory_assets.defs.inventory_api.resources import SENSOR_RETRIES, VendorApiResource
from inventory_assets.sources.inventory_api.changes import Change, ChangeFeed, parse_api_timestamp
from inventory_assets.sources.inventory_api.errors import InventoryApiError, explain

MAX_PAGES_PER_TICK = 20


@dataclass
class ChangeCursor:
    """The newest vendor `updated_at` already requested, and the ids seen at that instant."""

    since: str | None = None
    seen_ids: list[int] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str | None) -> "ChangeCursor":
        return cls(**json.loads(text)) if text else cls()

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def at_since(self, change: Change) -> bool:
        return self.since is not None and change.moment == parse_api_timestamp(self.since)

    def already_requested(self, change: Change) -> bool:
        return self.at_since(change) and change.id in self.seen_ids

    def past(self, changes: list[Change]) -> "ChangeCursor":
        """The cursor just past `changes`, which are ordered oldest first."""
        if not changes:
            return self
        newest = changes[-1]
        at_newest = {c.id for c in changes if c.moment == newest.moment}
        if self.at_since(newest):
            at_newest |= set(self.seen_ids)
        return ChangeCursor(since=newest.updated_at, seen_ids=sorted(at_newest))


def _unchanged(feed: ChangeFeed, cursor: ChangeCursor) -> bool:
    """One request: nothing changed iff the API holds exactly the ids we saw at `since`.

    The first page of the change set must hold only those (a seen record that
    changed again moves past `since`, so it shows there too) and say no more follow.
    """
    page = feed.first(cursor.since)
    held = page.total if page.total is not None else len(page.changes)
    return (
        held == len(cursor.seen_ids)
        and (page.total is not None or not page.more)
        and all(cursor.already_requested(change) for change in page.changes)
    )


def _start_watching(feed: ChangeFeed) -> SensorResult | SkipReason:
    """First tick: watch from the vendor's newest change, without a backfill."""
    newest = feed.newest()
    if newest is None:
        return SkipReason("The inventory API has no records yet; watching from the first one.")
    cursor = ChangeCursor().past(feed.changes_since(newest.updated_at, max_pages=1))
    return SensorResult(
        skip_reason=f"Started watching for changes after {newest.updated_at}.",
        cursor=cursor.dump(),
    )


def requestable(changes: list[Change], partitions: TimeWindowPartitionsDefinition) -> list[Change]:
    """The prefix of `changes` whose day has a partition already.

    A change dated after the last partition (the vendor's clock ahead of ours)
    stops the prefix, so the cursor waits for it instead of passing it by.
    """
    last_day = date.fromisoformat(partitions.get_last_partition_key() or "0001-01-01")
    for position, change in enumerate(changes):
        if change.moment.date() > last_day:
            return changes[:position]
    return changes


def run_requests_per_day(
    context: SensorEvaluationContext,
    spec: EndpointSpec,
    changes: list[Change],
    partitions: TimeWindowPartitionsDefinition,
) -> list[RunRequest]:
    """One run per changed day; the run key carries the day's newest change marker, and the
    run config how many records changed that day (what `dagster sensor preview` prints)."""
    first_day = partitions.start.date()
    by_day: dict[date, list[Change]] = defaultdict(list)
    for change in changes:
        by_day[change.moment.date()].append(change)
    requests_: list[RunRequest] = []
    for day, day_changes in sorted(by_day.items()):
        if day < first_day:
            context.log.info(f"{len(day_changes)} changes on {day}, before the first partition")
            continue
        marker = max(day_changes, key=lambda change: (change.moment, change.id))
        requests_.append(
            RunRequest(
                partition_key=day.isoformat(),
                run_key=f"{day.isoformat()}:{marker.updated_at}:{marker.id}:{len(day_changes)}",
                run_config=change_notice_config(spec, day.isoformat(), len(day_changes)),
            )
        )
    return requests_


# What a tick may meet when it asks the API; anything else is a bug and fails the tick.
API_ERRORS = (requests.RequestException, InventoryApiError)


def skipped_for(
    error: Exception, vendor_api: VendorApiResource, feed: ChangeFeed, doing: str
) -> SkipReason:
    """A tick that could not ask the API skips, saying why and what was tried (never the key)."""
    explained = explain(error, vendor_api.base_url, feed.retries)
    return SkipReason(f"Could not {doing}: {explained or type(error).__name__}")


def change_sensor(
    spec: EndpointSpec, job: AssetJob, interval_seconds: int, description: str
) -> Callable[[Callable], SensorDefinition]:
    """The decorator of an endpoint's change sensor, whichever way it finds changes; the
    function it decorates takes its instance's resources (`ResourceKeys.injected`)."""
    decorate = sensor(
        name=f"{spec.name}_change_sensor",
        job=job,
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.STOPPED,
        description=description,
    )
    return lambda fn: decorate(spec.resources.injected(fn))


def build_change_sensor(
    spec: EndpointSpec, job: AssetJob, interval_seconds: int
) -> SensorDefinition:
    """A sensor that loads exactly the daily partitions whose records changed at the vendor."""
    endpoint, partitions = spec.endpoint, spec.partitions_def
    assert partitions is not None, "a windowed endpoint has daily partitions"

    @change_sensor(
        spec,
        job,
        interval_seconds,
        f"Loads exactly the daily partitions of {endpoint.name} that changed.",
    )
    def _change_sensor(
        context: SensorEvaluationContext, vendor_api: VendorApiResource
    ) -> SensorResult | SkipReason:
        cursor = ChangeCursor.parse(context.cursor)
        feed = vendor_api.change_feed(endpoint, max_retries=SENSOR_RETRIES)
        try:
            if cursor.since is None:
                return _start_watching(feed)
            if _unchanged(feed, cursor):
                return SkipReason(f"No changes since {cursor.since}.")
            changes = [
                change
                for change in feed.changes_since(cursor.since, MAX_PAGES_PER_TICK)
                if not cursor.already_requested(change)
            ]
        except API_ERRORS as error:
            return skipped_for(error, vendor_api, feed, "poll for changes")
        loadable = requestable(changes, partitions)
        run_requests = run_requests_per_day(context, spec, loadable, partitions)
        return SensorResult(
            run_requests=run_requests,
            cursor=cursor.past(loadable).dump(),
            skip_reason=None if run_requests else "Changes seen, none in a loadable partition yet.",
        )

    return _change_sensor


def build_daily_schedule(job: AssetJob, partitioned: bool) -> ScheduleDefinition:
    """After midnight UTC: finalize the day that just ended and open the new one.

    The completed day is the one that matters; opening the new day lets the
    time-partition freshness check pass before any change arrives. A job that
    loads the whole listing simply runs once.
    """

    @schedule(
        name=f"{job.name.removesuffix('_ingest_job')}_daily_schedule",
        cron_schedule="15 0 * * *",
        execution_timezone="UTC",
        job=job,
        default_status=DefaultScheduleStatus.STOPPED,
    )
    def _daily(context: ScheduleEvaluationContext) -> list[RunRequest]:
        today = context.scheduled_execution_time.date()
        if not partitioned:
            return [RunRequest(run_key=f"daily:{today.isoformat()}")]
        return [
            RunRequest(partition_key=day.isoformat(), run_key=f"{purpose}:{day.isoformat()}")
            for purpose, day in (("final", today - timedelta(days=1)), ("open", today))
        ]

    return _daily


def build_automation_sensor(group: str, interval_seconds: int) -> SensorDefinition:
    """Evaluates the automation conditions of the group's assets (the downstream refresh)."""
    return AutomationConditionSensorDefinition(
        name=f"{group}_automation_sensor",
        target=AssetSelection.groups(group),
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_seconds,
        description="Refreshes downstream assets once their upstream updated and passed checks.",
    )
