"""A vendor's quota: the simulator enforces one, and `api.max_requests_per_second` keeps to it.

The symptom first (a range loaded against a vendor with a quota of 4 requests
a second runs into 429s), then the fix: with INVENTORY_MAX_REQUESTS_PER_SECOND=4
the vendor's own request log never holds more than 4 requests in a second, it
answers no 429, the range loads exactly, and the time spent waiting shows in
the asset's metadata.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from dagster import DagsterInstance, materialize

from inventory_api_sim import InventoryApiSimulator
from inventory_api_sim.deviations import parse_switch
from inventory_assets.defs.inventory_api.resources import vendor_api_resource
from inventory_assets.settings import SettingsError
from inventory_assets.sources.inventory_api.rate_limit import (
    MARGIN,
    RateLimiter,
    pace,
    shared_limiter,
    window_of,
)
from inventory_assets.sources.inventory_api.stats import ExtractStats
from inventory_assets_tests.conftest import (
    day_window,
    expected_records,
    inventory_endpoint,
    make_resources,
    settings_for,
    warehouse_rows,
)
from inventory_assets_tests.support import TEST_API_KEY

DAYS = ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]
QUOTA = 4
RANGE_TAGS = {
    "dagster/asset_partition_range_start": DAYS[0],
    "dagster/asset_partition_range_end": DAYS[-1],
}


def test_the_simulator_answers_429_with_retry_after_above_its_quota(make_sim) -> None:
    sim: InventoryApiSimulator = make_sim(quota_per_second=3)
    target = f"/v1/resource?api_key={quote(TEST_API_KEY)}&limit=1"

    answers = [sim.respond(target) for _ in range(5)]

    assert [answer.status for answer in answers] == [200, 200, 200, 429, 429]
    assert dict(answers[3].headers)["Retry-After"] == "1"
    assert sim.quota_refusals == 2
    assert sim.busiest_second() == 5, "the log counts every arrival, refused ones too"
    time.sleep(1.05)
    assert sim.respond(target).status == 200, "refusals do not use the quota up"


def test_the_quota_switches_at_run_time(make_sim) -> None:
    sim: InventoryApiSimulator = make_sim()
    target = f"/v1/resource?api_key={quote(TEST_API_KEY)}&limit=1"
    assert {sim.respond(target).status for _ in range(5)} == {200}

    sim.deviate(quota_per_second=parse_switch("quota_per_second", "2"))

    assert [sim.respond(target).status for _ in range(3)] == [200, 200, 429]
    with pytest.raises(ValueError, match="quota_per_second must be an integer >= 1"):
        sim.deviate(quota_per_second=0)


def test_the_limiter_keeps_threads_within_a_quota_in_the_order_they_asked(make_sim) -> None:
    """21 threads at once through a limit of 10 a second, against a vendor with that quota:
    the vendor's log never holds more than 10 in a second, and it refuses none."""
    sim: InventoryApiSimulator = make_sim(quota_per_second=10)
    limiter, stats = RateLimiter(10), ExtractStats()
    target = f"/v1/resource?api_key={quote(TEST_API_KEY)}&limit=1"
    asked: list[int] = []
    sent: list[int] = []
    order = threading.Lock()

    def send(number: int) -> None:
        with order:
            asked.append(number)
        with stats.held_by_quota():
            limiter.wait()
        with order:
            sent.append(number)
        sim.respond(target)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sim.quota_refusals == 0
    assert sim.busiest_second() <= 10
    assert sent == asked, "first come, first served"
    arrivals = sim.arrivals
    assert max(arrivals) - min(arrivals) >= 2 * (1 + MARGIN) - 0.05, "10, 10, then 1"
    # The two windows' wait, counted once however many threads waited side by side.
    assert 2 * (1 + MARGIN) - 0.05 <= stats.rate_limit_wait_seconds <= 2 * (1 + MARGIN) + 0.5


def test_a_fractional_rate_keeps_to_the_whole_number_below_it() -> None:
    assert window_of(2.5) == (2, 1 + MARGIN)
    assert window_of(0.5) == (1, 2 * (1 + MARGIN)), "one request per two seconds"
    assert pace(4) == pytest.approx(4 / (1 + MARGIN))
    assert shared_limiter("http://vendor:80", 20) is shared_limiter("http://vendor:80", 20)
    assert shared_limiter("http://vendor:80", 20) is not shared_limiter("http://other:80", 20)


def _range_load(sim: InventoryApiSimulator, env: dict[str, str], tmp_path: Path):
    """Load DAYS in one run, as the settings from `env` configure the vendor's resource."""
    duckdb_path = tmp_path / "data" / "warehouse.duckdb"
    resources = make_resources(sim.url, duckdb_path, tmp_path)
    resources["inventory_vendor_api"] = vendor_api_resource(
        settings_for({"INVENTORY_MAX_CONCURRENCY": "8", **env}).api,
        base_url=sim.url,
        api_key=TEST_API_KEY,
        request_timeout_seconds=5,
    )
    sim.reset_stats()
    result = materialize(
        [inventory_endpoint().assets],
        resources=resources,
        instance=DagsterInstance.ephemeral(),
        tags=RANGE_TAGS,
        raise_on_error=False,
    )
    return result, duckdb_path


def test_without_a_limit_a_range_runs_into_the_vendors_quota(make_sim, tmp_path: Path) -> None:
    """The issue's symptom: concurrency bounds requests in flight, not requests a second."""
    sim: InventoryApiSimulator = make_sim(rows=1000, quota_per_second=QUOTA)

    _range_load(sim, {}, tmp_path)

    assert sim.quota_refusals > 0
    assert sim.busiest_second() > QUOTA


def test_with_the_limit_a_range_loads_exactly_within_the_vendors_quota(
    make_sim, tmp_path: Path
) -> None:
    sim: InventoryApiSimulator = make_sim(rows=1000, quota_per_second=QUOTA)

    result, duckdb_path = _range_load(
        sim, {"INVENTORY_MAX_REQUESTS_PER_SECOND": str(QUOTA)}, tmp_path
    )

    assert result.success
    assert sim.quota_refusals == 0, "the vendor answered no 429"
    assert len(sim.arrivals) > 2 * QUOTA, "enough requests to test the quota"
    assert sim.busiest_second() <= QUOTA
    expected = sorted(r["id"] for day in DAYS for r in expected_records(sim, *day_window(day)))
    assert [row[0] for row in warehouse_rows(duckdb_path, "id")] == expected
    metadata = result.asset_materializations_for_node("load_inventory__inventory_data")[0].metadata
    held = metadata["inventory/seconds_waiting_for_quota"].value
    # Wall-clock time held back, counted once however many threads waited side by side.
    assert 0 < held <= len(sim.arrivals) / pace(QUOTA)
    assert metadata["inventory/requests"].value == len(sim.arrivals)


def test_the_quota_is_divided_among_the_processes_that_call_the_vendor() -> None:
    settings = settings_for(
        {"INVENTORY_MAX_REQUESTS_PER_SECOND": "8", "INVENTORY_RATE_LIMIT_PROCESSES": "4"}
    )
    assert settings.api.options().max_requests_per_second == 2
    assert vendor_api_resource(settings.api).max_requests_per_second == 2
    assert settings_for({}).api.options().max_requests_per_second is None
    with pytest.raises(SettingsError, match=r"leaves each process 0\.01 requests a second"):
        settings_for(
            {"INVENTORY_MAX_REQUESTS_PER_SECOND": "1", "INVENTORY_RATE_LIMIT_PROCESSES": "100"}
        )
