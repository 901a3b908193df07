"""Freshness of `inventory/inventory_data`, at two levels, both configurable.

- Per partition: `build_time_partition_freshness_checks` expects the partition
  that contains each daily deadline (cron, UTC) to have been loaded by then; with
  `end_offset=1` that is the current day's partition, which the daily schedule
  opens just after midnight and the change sensor refreshes. This is the check
  that matters for a partitioned asset: asset-level freshness would call the
  asset fresh right after a backfill of an old partition.
- Per asset: a `FreshnessPolicy` (today's API) fails when no partition at all
  was loaded for N hours.

Downstream refreshes wait for both (see `marts.py`). Automation counts a check
as passed only if it was evaluated after the asset's latest materialization, so
`inventory_freshness_sensor` re-evaluates the check after every load as well as
at each deadline; Dagster's stock freshness sensor does only the latter, which
would hold the downstream refresh back until the next deadline.
"""

import warnings
from datetime import timedelta

from dagster import (
    AssetCheckKey,
    AssetSelection,
    DagsterInstance,
    DefaultSensorStatus,
    EnvVar,
    FreshnessPolicy,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    build_time_partition_freshness_checks,
    sensor,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._time import get_current_timestamp

from inventory_assets.defs.ingest import INVENTORY_DATA_KEY

DEFAULT_DEADLINE_CRON = "0 2 * * *"
DEFAULT_MAX_HOURS_SINCE_UPDATE = 26.0
# The evaluation metadata key under which Dagster's time-partition check says until when it holds.
FRESH_UNTIL_METADATA_KEY = "dagster/fresh_until_timestamp"


def _setting(name: str, default: str) -> str:
    return EnvVar(name).get_value(default) or default


deadline_cron = _setting("INVENTORY_FRESHNESS_DEADLINE_CRON", DEFAULT_DEADLINE_CRON)
sensor_interval_seconds = int(_setting("INVENTORY_FRESHNESS_SENSOR_INTERVAL_SECONDS", "60"))
max_hours_since_update = float(
    _setting("INVENTORY_FRESHNESS_MAX_HOURS", str(DEFAULT_MAX_HOURS_SINCE_UPDATE))
)

inventory_data_freshness_policy = FreshnessPolicy.time_window(
    fail_window=timedelta(hours=max_hours_since_update)
)

# Dagster marks the check factory as superseded by FreshnessPolicy, but a
# FreshnessPolicy is evaluated per asset, not per partition: the time-partition
# check has no replacement yet, so we keep it and silence the notice.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    partition_freshness_checks = build_time_partition_freshness_checks(
        assets=[INVENTORY_DATA_KEY], deadline_cron=deadline_cron, timezone="UTC"
    )
PARTITION_FRESHNESS_CHECK_KEY = AssetCheckKey(INVENTORY_DATA_KEY, "freshness_check")


def evaluation_due(instance: DagsterInstance, now: float) -> str | None:
    """Why the partition freshness check should be evaluated now, or None if it need not."""
    summary = instance.event_log_storage.get_asset_check_summary_records(
        [PARTITION_FRESHNESS_CHECK_KEY]
    )[PARTITION_FRESHNESS_CHECK_KEY]
    latest = summary.last_check_execution_record
    completed = summary.last_completed_check_execution_record
    if latest is None or completed is None or completed.event is None:
        return None if latest else "it has never been evaluated"
    if latest.status == AssetCheckExecutionRecordStatus.PLANNED:
        return None
    loaded = instance.get_latest_materialization_event(INVENTORY_DATA_KEY)
    if loaded and loaded.timestamp > completed.event.timestamp:
        return "inventory_data was loaded since its last evaluation"
    evaluation = completed.event.asset_check_evaluation
    fresh_until = evaluation.metadata.get(FRESH_UNTIL_METADATA_KEY) if evaluation else None
    if fresh_until is not None and float(fresh_until.value) < now:  # type: ignore[arg-type]
        return "a freshness deadline has passed"
    return None


@sensor(
    name="inventory_freshness_sensor",
    minimum_interval_seconds=sensor_interval_seconds,
    asset_selection=AssetSelection.checks(*partition_freshness_checks),
    default_status=DefaultSensorStatus.RUNNING,
    description="Evaluates the partition freshness check after each load and at each deadline.",
)
def inventory_freshness_sensor(context: SensorEvaluationContext) -> RunRequest | SkipReason:
    reason = evaluation_due(context.instance, get_current_timestamp())
    if reason is None:
        return SkipReason("The partition freshness check is up to date.")
    context.log.info(f"Evaluating the partition freshness check: {reason}.")
    return RunRequest(asset_check_keys=[PARTITION_FRESHNESS_CHECK_KEY])
