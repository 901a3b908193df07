"""inventory__inventory_data_change_sensor against the simulator, and the daily schedule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dagster import (
    DagsterInstance,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from inventory_assets.defs.inventory_api.resources import VendorApiResource
from inventory_assets.defs.inventory_api.sensors import ChangeCursor
from inventory_assets_tests.conftest import TEST_API_KEY, inventory_endpoint


def _tick(simulator, cursor: str | None, api_key: str = TEST_API_KEY):
    """One evaluation of the change sensor against the simulator, from `cursor`."""
    api = VendorApiResource(base_url=simulator.url, api_key=api_key)
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(
            instance=instance, cursor=cursor, resources={"inventory_vendor_api": api}
        )
        return inventory_endpoint().change_sensor(context)


def _watching(simulator) -> str:
    """The cursor after the first tick, which starts watching at the newest change."""
    result = _tick(simulator, None)
    assert isinstance(result, SensorResult)
    assert "Started watching" in str(result.skip_reason)
    return result.cursor


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _partitions(result: SensorResult) -> list[str]:
    return sorted(request.partition_key for request in result.run_requests)


def test_first_tick_watches_from_the_vendors_newest_change(simulator) -> None:
    cursor = ChangeCursor.parse(_watching(simulator))

    newest = max(simulator.records, key=lambda r: (r["updated_at"], r["id"]))
    assert cursor.since == newest["updated_at"]
    assert newest["id"] in cursor.seen_ids


def test_nothing_changed_means_one_request_and_a_skip(simulator) -> None:
    cursor = _watching(simulator)
    simulator.reset_stats()

    result = _tick(simulator, cursor)

    assert isinstance(result, SkipReason)
    assert "No changes since" in str(result.skip_message)
    assert simulator.request_count == 1


def test_changes_request_exactly_the_changed_partitions(simulator) -> None:
    cursor = _watching(simulator)
    ids = [r["id"] for r in simulator.records[:3]]
    simulator.touch(ids[:2], _at("2026-11-06T10:00:00"), quantity=1)
    simulator.touch(ids[2:], _at("2026-11-07T08:30:00"), quantity=2)

    result = _tick(simulator, cursor)

    assert _partitions(result) == ["2026-11-06", "2026-11-07"]
    advanced = ChangeCursor.parse(result.cursor)
    assert advanced.since == "2026-11-07T08:30:00Z"
    assert advanced.seen_ids == [ids[2]]
    again = _tick(simulator, result.cursor)
    assert isinstance(again, SkipReason), "the cursor moved past what was requested"


def test_run_keys_are_idempotent_but_a_later_change_refreshes_the_day(simulator) -> None:
    cursor = _watching(simulator)
    first_id, second_id = (r["id"] for r in simulator.records[:2])
    simulator.touch([first_id], _at("2026-11-06T10:00:00"))

    first = _tick(simulator, cursor)
    repeated = _tick(simulator, cursor)
    assert [r.run_key for r in first.run_requests] == [r.run_key for r in repeated.run_requests]

    simulator.touch([second_id], _at("2026-11-06T11:00:00"))
    later = _tick(simulator, first.cursor)

    assert _partitions(later) == ["2026-11-06"]
    assert later.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_seen_record_that_changes_again_is_noticed(simulator) -> None:
    cursor = _watching(simulator)
    changed = simulator.records[0]["id"]
    simulator.touch([changed], _at("2026-11-06T10:00:00"))
    first = _tick(simulator, cursor)

    simulator.touch([changed], _at("2026-11-07T09:00:00"))
    second = _tick(simulator, first.cursor)

    assert _partitions(second) == ["2026-11-07"]


def test_changes_dated_after_the_last_partition_wait(simulator) -> None:
    cursor = _watching(simulator)
    ids = [r["id"] for r in simulator.records[:2]]
    simulator.touch(ids[:1], _at("2026-11-06T10:00:00"))
    simulator.touch(ids[1:], _at("2099-01-01T00:00:00"))

    result = _tick(simulator, cursor)

    assert _partitions(result) == ["2026-11-06"]
    assert ChangeCursor.parse(result.cursor).since == "2026-11-06T10:00:00Z"


def test_the_control_endpoint_drives_the_sensor(simulator) -> None:
    import requests

    cursor = _watching(simulator)
    touched = requests.post(
        f"{simulator.url}/_control/touch", params={"count": 4, "day": "2026-11-08"}, timeout=5
    ).json()["touched"]

    result = _tick(simulator, cursor)

    assert len(touched) == 4
    assert _partitions(result) == ["2026-11-08"]
    notice = {"changed_day": "2026-11-08", "changed_records": 4}
    assert result.run_requests[0].run_config == {
        "ops": {"load_inventory__inventory_data": {"config": notice}}
    }


@pytest.mark.parametrize(
    ("api_key", "fault", "message"),
    [
        ("wrong-key-never-printed", None, "rejected the API key (HTTP 401)"),
        (TEST_API_KEY, 503, "HTTP 503"),
    ],
)
def test_api_errors_skip_with_a_clear_message(
    simulator, api_key: str, fault: int | None, message: str
) -> None:
    cursor = _watching(simulator)
    if fault:
        simulator.fail_next(fault, times=2)

    result = _tick(simulator, cursor, api_key=api_key)

    assert isinstance(result, SkipReason)
    assert message in str(result.skip_message)
    assert api_key not in str(result.skip_message)
    assert TEST_API_KEY not in str(result.skip_message)


def test_the_daily_schedule_finalizes_yesterday_and_opens_today() -> None:
    context = build_schedule_context(scheduled_execution_time=_at("2026-11-10T00:15:00"))

    requests_ = inventory_endpoint().schedule(context)

    assert [r.partition_key for r in requests_] == ["2026-11-09", "2026-11-10"]
