"""The backfill plan (inventory_assets/planning/): predicted before the load, right after it.

`inventory-api-plan` for five days predicts the requests the load then makes
(the simulator's log and the asset's own `inventory/requests`) within 10%, and
its `--max-requests` refuses a plan over it; days whose totals look wrong are
flagged; the arithmetic holds for every shape of total; the UI job reports the
same plan and fails over its budget; bad input exits 2 in one line, and the key
never shows. The commands of docs/backfill-planning.md are the ones run here.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, materialize

from inventory_api_sim import InventoryApiSimulator
from inventory_assets.defs.inventory_api.component import build_endpoints
from inventory_assets.defs.inventory_api.load_metadata import LoadMetadata
from inventory_assets.defs.inventory_api.resources import (
    ResourceKeys,
    VendorApiResource,
    vendor_api_resource,
)
from inventory_assets.planning.cli import main
from inventory_assets.planning.counts import plan_with
from inventory_assets.planning.job import build_backfill_plan_job
from inventory_assets.planning.plan import (
    Counts,
    LoadShape,
    days_of,
    expected_seconds,
    pages_for,
    plan_backfill,
    requests_for,
)
from inventory_assets_tests.cli_runner import BIN
from inventory_assets_tests.conftest import (
    assert_secret_in_no_event,
    day_window,
    expected_records,
    make_resources,
    settings_for,
    shipped_code_location,
    step_failure_message,
)
from inventory_assets_tests.support import ROOT, TEST_API_KEY, doc_commands

PAGE = "docs/backfill-planning.md"
DAYS = ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05")
PLAN = ("--from", DAYS[0], "--to", DAYS[-1])
# The commands docs/backfill-planning.md shows, with the exit code each has against the
# tests' simulator (1000 records over five days: 12 requests).
DOC_COMMANDS = {
    ("inventory-api-plan", *PLAN): 0,
    ("inventory-api-plan", *PLAN, "--max-requests", "500"): 0,
    ("inventory-api-plan", *PLAN, "--max-requests", "10"): 1,
}
LOAD_NODE = "load_inventory__inventory_data"


@pytest.fixture
def vendor_env(simulator: InventoryApiSimulator, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The environment the console script reads, pointed at the simulator."""
    env = {"INVENTORY_API_BASE_URL": simulator.url, "INVENTORY_API_KEY": TEST_API_KEY}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _vendor_api(sim: InventoryApiSimulator, env: dict[str, str]) -> VendorApiResource:
    """The vendor resource these settings give a run, pointed at the simulator."""
    return vendor_api_resource(
        settings_for(env).api, base_url=sim.url, api_key=TEST_API_KEY, backoff_factor=0.01
    )


def _endpoint(env: dict[str, str], name: str = "inventory_data"):
    settings = settings_for(env)
    return settings.endpoints[name].endpoint(name, settings.api)


def _run(argv: tuple[str, ...], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    assert TEST_API_KEY not in out.out + out.err
    return code, out.out, out.err


def _predicted(output: str) -> int:
    return int(re.search(r"Expected: (\d+) requests", output).group(1))


# -- the acceptance test: the plan predicts the load -------------------------------------------


@pytest.mark.parametrize("max_concurrency", ["1", "8"])
def test_the_plan_predicts_the_requests_of_the_load_within_ten_percent(
    simulator, vendor_env, monkeypatch, capsys, tmp_path: Path, max_concurrency: str
) -> None:
    env = {**vendor_env, "INVENTORY_MAX_CONCURRENCY": max_concurrency}
    monkeypatch.setenv("INVENTORY_MAX_CONCURRENCY", max_concurrency)
    code, out, _ = _run(PLAN, capsys)
    assert code == 0, out
    predicted = _predicted(out)

    resources = make_resources(simulator.url, tmp_path / "warehouse.duckdb", tmp_path)
    resources["inventory_vendor_api"] = _vendor_api(simulator, env)
    simulator.reset_stats()
    result = materialize(
        [build_endpoints(settings_for(env))["inventory_data"].assets],
        resources=resources,
        instance=DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": DAYS[0],
            "dagster/asset_partition_range_end": DAYS[-1],
        },
    )

    assert result.success
    made = [q for q in simulator.requests if q["_path"] == "/v1/resource"]
    recorded = LoadMetadata.extract(result.asset_materializations_for_node(LOAD_NODE)[0].metadata)
    for actual in (len(made), recorded.requests):
        assert abs(actual - predicted) <= 0.1 * predicted, (predicted, actual)


def test_max_requests_below_the_plan_exits_1_and_at_or_above_it_0(vendor_env, capsys) -> None:
    _, out, _ = _run(PLAN, capsys)
    predicted = _predicted(out)

    over = _run((*PLAN, "--max-requests", str(predicted - 1)), capsys)
    assert over[0] == 1
    assert f"over the budget of {predicted - 1}" in over[2]
    assert _run((*PLAN, "--max-requests", str(predicted)), capsys)[0] == 0
    assert _run((*PLAN, "--max-requests", str(predicted + 1)), capsys)[0] == 0


def test_the_docs_show_the_commands_tested_here(vendor_env, capsys) -> None:
    shown = {
        command[: command.index("||")] if "||" in command else command
        for command in doc_commands(PAGE, "inventory-api-plan")
        if command[0] == "inventory-api-plan"  # not the lines of its output
    }
    assert shown == set(DOC_COMMANDS)
    for command, code in DOC_COMMANDS.items():
        assert _run(command[1:], capsys)[0] == code, command


def test_the_console_script_is_installed(vendor_env) -> None:
    done = subprocess.run(
        [str(BIN / "inventory-api-plan"), *PLAN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "total          1000     12        12" in done.stdout
    assert TEST_API_KEY not in done.stdout + done.stderr


# -- flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize("deviation", ["ignore_window", "total_ignores_window"])
def test_days_whose_total_is_the_listings_are_flagged(simulator, deviation: str) -> None:
    simulator.deviate(**{deviation: True})
    plan = plan_with(_vendor_api(simulator, {}), _endpoint({}), days_of_range())

    assert len(plan.flagged) == len(DAYS)
    assert all("equals the whole listing's total (1000)" in day.flag for day in plan.days)


def test_an_empty_day_between_busy_days_is_flagged(simulator) -> None:
    emptied = DAYS[2]
    simulator.delete_random(len(expected_records(simulator, *day_window(emptied))), day=emptied)
    plan = plan_with(_vendor_api(simulator, {}), _endpoint({}), days_of_range())

    (flagged,) = plan.flagged
    assert flagged.day.isoformat() == emptied
    assert flagged.records == 0
    assert flagged.flag.startswith("0 records beside days of ")


def days_of_range() -> tuple[date, ...]:
    return days_of(date.fromisoformat(DAYS[0]), date.fromisoformat(DAYS[-1]), date(2026, 1, 1))


# -- the arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "pages", "requests"),
    [(0, 0, 1), (40, 1, 1), (100, 1, 2), (300, 3, 4), (301, 4, 4)],
    ids=["T=0", "T<P", "T=P", "T=k*P", "T=k*P+1"],
)
def test_pages_and_requests_of_a_window(total: int, pages: int, requests: int) -> None:
    assert pages_for(total, 100) == pages
    assert requests_for(total, 100) == requests


def test_the_time_is_bounded_by_the_rate_limit_when_set_else_by_latency() -> None:
    windows = [20] * 5
    # 100 requests, 2 per window of 1.05 s: the last window opens after 49 of them.
    assert expected_seconds(windows, 5, 0.01, rate=2.0) == pytest.approx((51.45, "rate limit"))
    assert expected_seconds(windows, 5, 0.1, rate=None) == pytest.approx((2.0, "latency"))
    assert expected_seconds(windows, 1, 0.1, rate=None) == pytest.approx((10.0, "latency"))
    # The longest window's requests run one after another, however many are in flight.
    assert expected_seconds([50, 1, 1], 8, 0.1, rate=None) == pytest.approx((5.0, "latency"))


def _counts(totals: tuple[int, ...] | None, listing: int = 10_000) -> Counts:
    days = days_of_range()[: len(totals or (0, 0))]
    return Counts(days, totals, listing, requests=len(days) + 1, latency_seconds=0.01)


def test_a_range_is_one_window_without_concurrency_and_daily_windows_with_it() -> None:
    totals = (100, 50)
    one = plan_backfill("x", LoadShape("window", 100, 1, None), _counts(totals))
    daily = plan_backfill("x", LoadShape("window", 100, 8, None), _counts(totals))

    assert (one.windows, one.requests, one.pages) == (1, 2, 2)
    assert (daily.windows, daily.requests, daily.pages) == (2, 3, 2)
    assert [day.requests for day in daily.days] == [2, 1]


def test_client_window_pages_the_listing_once_and_knows_no_day() -> None:
    plan = plan_backfill("x", LoadShape("client_window", 100, 8, None), _counts(None, 250))

    assert (plan.windows, plan.requests, plan.pages) == (1, 3, 3)
    assert {day.records for day in plan.days} == {None}


@pytest.mark.parametrize(
    ("totals", "flagged"),
    [((200, 0, 180), [1]), ((0, 150), [0]), ((3, 0, 2), []), ((200, 10_000, 150), [1])],
)
def test_flags(totals: tuple[int, ...], flagged: list[int]) -> None:
    plan = plan_backfill("x", LoadShape("window", 100, 8, None), _counts(totals))
    assert [i for i, day in enumerate(plan.days) if day.flag] == flagged


# -- the UI job -------------------------------------------------------------------------------


def _job_config(**config) -> dict:
    return {
        "ops": {"plan_backfill": {"config": {"from_day": DAYS[0], "to_day": DAYS[-1]} | config}}
    }


def test_the_job_reports_the_plan_and_fails_over_its_budget(simulator) -> None:
    assert shipped_code_location().resolve_job_def("inventory_backfill_plan_job")
    job = build_backfill_plan_job(ResourceKeys("inventory"), [_endpoint({})], date(2026, 1, 1))
    resources = {"inventory_vendor_api": _vendor_api(simulator, {})}
    instance = DagsterInstance.ephemeral()

    ok = job.execute_in_process(_job_config(), resources=resources, instance=instance)
    (output,) = [e for e in ok.all_events if e.event_type == DagsterEventType.STEP_OUTPUT]
    metadata = output.step_output_data.metadata
    assert metadata["requests"].value == 12
    assert metadata["pages"].value == 12
    assert metadata["expected_seconds"].value >= 0
    assert "| 2026-11-02 | 208 | 3 | 3 |  |" in metadata["plan"].value

    over = job.execute_in_process(
        _job_config(max_requests=10), resources=resources, instance=instance, raise_on_error=False
    )
    assert "exceed max_requests=10" in step_failure_message(over)
    assert_secret_in_no_event(instance, TEST_API_KEY)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "env", "words"),
    [
        (("--from", DAYS[1], "--to", DAYS[0]), {}, "after its last day"),
        ((*PLAN, "--endpoint", "nowhere"), {}, "no endpoint 'nowhere'"),
        ((*PLAN, "--endpoint", "warehouses"), {}, "sync_mode full"),
        (PLAN, {"INVENTORY_TOTAL_PATH": ""}, "needs the vendor's total"),
        (("--from", "2025-12-31", "--to", DAYS[0]), {}, "before the first partition"),
    ],
    ids=["from-after-to", "unknown-endpoint", "full-endpoint", "no-total-path", "too-early"],
)
def test_bad_input_exits_2_in_one_line(vendor_env, monkeypatch, capsys, argv, env, words) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert words in err
    assert "Traceback" not in err


def test_a_vendor_whose_pages_hold_no_total_exits_2(simulator, vendor_env, capsys) -> None:
    simulator.deviate(omit_total=True)
    code, _, err = _run(PLAN, capsys)
    assert code == 2
    assert "holds no total at 'total'" in err
    assert len(err.strip().splitlines()) == 1, err
