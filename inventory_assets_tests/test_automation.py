"""Freshness checks and the automation condition that gates the downstream refresh."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import (
    AssetSelection,
    DagsterInstance,
    RunRequest,
    build_sensor_context,
    evaluate_automation_conditions,
    materialize,
)
from dagster._core.test_utils import freeze_time

from inventory_assets.defs.inventory_api.freshness import freshness_sensor
from inventory_assets_tests.conftest import (
    LOW_STOCK_ITEMS_KEY,
    STOCK_LEVELS_KEY,
    check_evaluation,
    day_window,
    expected_records,
    inventory_endpoint,
    materialize_partition,
    shipped_code_location,
)

DAY = "2026-11-04"
MORNING_OF_DAY = datetime(2026, 11, 4, 5, 0, tzinfo=UTC)  # past the 02:00 UTC deadline
NEXT_MORNING = datetime(2026, 11, 5, 5, 0, tzinfo=UTC)


def _load_with_quality_checks(resources: dict, instance: DagsterInstance):
    return materialize_partition(resources, DAY, instance, raise_on_error=False, with_checks=True)


def _evaluate_freshness(instance: DagsterInstance, now: datetime, resources: dict) -> bool:
    with freeze_time(now):
        result = materialize(
            [inventory_endpoint().assets, *inventory_endpoint().freshness_checks],
            resources=resources,
            instance=instance,
            selection=AssetSelection.checks(*inventory_endpoint().freshness_checks),
        )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation.passed


class AutomationTicks:
    """Successive automation-sensor ticks, carrying the cursor as the daemon does."""

    def __init__(self, instance: DagsterInstance) -> None:
        self.instance = instance
        self.cursor = None

    def requested(self) -> dict[str, int]:
        result = evaluate_automation_conditions(
            defs=shipped_code_location(), instance=self.instance, cursor=self.cursor
        )
        self.cursor = result.cursor
        return {
            key.to_user_string(): result.get_num_requested(key)
            for key in (STOCK_LEVELS_KEY, LOW_STOCK_ITEMS_KEY)
        }


NOTHING = {"inventory/stock_levels": 0, "inventory/low_stock_items": 0}


def test_partition_freshness_passes_after_a_load_and_fails_past_the_next_deadline(
    simulator, resources, instance: DagsterInstance
) -> None:
    assert not _evaluate_freshness(instance, MORNING_OF_DAY, resources), "nothing loaded yet"

    _load_with_quality_checks(resources, instance)

    assert _evaluate_freshness(instance, MORNING_OF_DAY, resources)
    assert not _evaluate_freshness(instance, NEXT_MORNING, resources)


def test_downstream_is_requested_only_after_a_good_and_fresh_load(
    simulator, resources, instance: DagsterInstance
) -> None:
    ticks = AutomationTicks(instance)
    assert ticks.requested() == NOTHING, "nothing loaded yet"

    _load_with_quality_checks(resources, instance)
    assert ticks.requested() == NOTHING, "the freshness check has not seen this load"

    assert _evaluate_freshness(instance, MORNING_OF_DAY, resources)
    assert ticks.requested() == {"inventory/stock_levels": 1, "inventory/low_stock_items": 1}
    assert ticks.requested() == NOTHING, "requested once per upstream update"


def test_a_failed_quality_check_blocks_the_refresh(
    simulator, resources, instance: DagsterInstance
) -> None:
    ticks = AutomationTicks(instance)
    ticks.requested()
    bad = expected_records(simulator, *day_window(DAY))[0]
    simulator.touch([bad["id"]], datetime(2026, 11, 4, 9, tzinfo=UTC), quantity=-1)

    result = _load_with_quality_checks(resources, instance)
    assert not check_evaluation(result, "quantity_not_negative").passed
    assert _evaluate_freshness(instance, MORNING_OF_DAY, resources)

    assert ticks.requested() == NOTHING


def test_a_stale_upstream_blocks_the_refresh_even_after_an_old_backfill(
    simulator, resources, instance: DagsterInstance
) -> None:
    ticks = AutomationTicks(instance)
    ticks.requested()
    _load_with_quality_checks(resources, instance)
    assert not _evaluate_freshness(instance, NEXT_MORNING, resources)

    materialize_partition(resources, "2026-11-02", instance, raise_on_error=False, with_checks=True)
    assert not _evaluate_freshness(instance, NEXT_MORNING, resources), "an old partition is no fix"

    assert ticks.requested() == NOTHING


def test_a_load_evaluates_partition_freshness_in_its_own_run(
    simulator, resources, instance: DagsterInstance
) -> None:
    """The ingest job carries the freshness check, so automation sees it right after a load."""
    ticks = AutomationTicks(instance)
    with freeze_time(MORNING_OF_DAY):
        assert ticks.requested() == NOTHING, "nothing loaded yet"
        result = materialize(
            [inventory_endpoint().assets, *inventory_endpoint().checks],
            resources=resources,
            partition_key=DAY,
            instance=instance,
        )
        assert check_evaluation(result, "freshness_check").passed
        requested = ticks.requested()

    assert requested == {"inventory/stock_levels": 1, "inventory/low_stock_items": 1}


def test_the_freshness_sensor_reevaluates_once_the_next_deadline_passed(
    simulator, resources, instance: DagsterInstance
) -> None:
    sensor = freshness_sensor(
        "inventory", inventory_endpoint().freshness_checks, interval_seconds=60
    )

    def requested_at(now: datetime) -> bool:
        with freeze_time(now):
            result = sensor(build_sensor_context(instance=instance))
        return isinstance(result, RunRequest)

    assert _evaluate_freshness(instance, MORNING_OF_DAY, resources) is False
    _load_with_quality_checks(resources, instance)
    assert _evaluate_freshness(instance, MORNING_OF_DAY, resources)

    assert not requested_at(MORNING_OF_DAY), "just evaluated, its deadline is tomorrow"
    assert requested_at(NEXT_MORNING), "the next deadline has passed"
