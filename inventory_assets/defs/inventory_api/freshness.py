"""Freshness of the ingested tables, from the settings: one signal per asset.

- A partitioned asset: `build_time_partition_freshness_checks` expects the
  partition that contains each daily deadline (cron, UTC) to have been loaded by
  then; with `end_offset=1` that is the current day's partition, which the daily
  schedule opens just after midnight and the change sensor refreshes. It has no
  asset-level policy besides: one would call the asset fresh right after a
  backfill of an old partition while this check fails, two stories on one page.
- An unpartitioned asset (a `full` listing): a `FreshnessPolicy` fails when it
  was not loaded for N hours.

The partition check runs in every ingestion run, right after the load (the
ingest job selects it), so automation sees an evaluation newer than the latest
materialization; Dagster's stock freshness sensor evaluates it again at each
deadline.
"""

import warnings
from collections.abc import Sequence
from datetime import timedelta

from dagster import (
    AssetChecksDefinition,
    AssetKey,
    DefaultSensorStatus,
    FreshnessPolicy,
    SensorDefinition,
    build_sensor_for_freshness_checks,
    build_time_partition_freshness_checks,
)

from inventory_assets.settings import FreshnessSettings


def freshness_policy(settings: FreshnessSettings) -> FreshnessPolicy:
    return FreshnessPolicy.time_window(fail_window=timedelta(hours=settings.max_hours))


def partition_freshness_checks(
    keys: Sequence[AssetKey], settings: FreshnessSettings
) -> Sequence[AssetChecksDefinition]:
    # Dagster marks the factory as superseded by FreshnessPolicy, which is evaluated
    # per asset, not per partition: the time-partition check has no replacement yet.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_time_partition_freshness_checks(
            assets=list(keys), deadline_cron=settings.deadline_cron, timezone="UTC"
        )


def freshness_sensor(
    group: str, checks: Sequence[AssetChecksDefinition], interval_seconds: int
) -> SensorDefinition:
    """Dagster's stock sensor: re-evaluates each check of the group's once its deadline
    has passed."""
    with warnings.catch_warnings():  # superseded, as above
        warnings.simplefilter("ignore")
        return build_sensor_for_freshness_checks(
            freshness_checks=list(checks),
            minimum_interval_seconds=interval_seconds,
            name=f"{group}_freshness_sensor",
            default_status=DefaultSensorStatus.RUNNING,
        )
