"""What users do, end to end: the UI in a real browser, the CLI, the daemon's sensors.

One simulator and one `dagster dev` (webserver and daemon, on a free port with a
temporary DAGSTER_HOME) serve the whole module, as on a user's machine. The
tests follow docs/daily-use.md, in file order:

1. The UI: the vendor's data reaches today (`--through today`); Chromium
   materializes today's partition from the asset page's *Materialize…* dialog,
   the run succeeds in the UI, the warehouse holds exactly that day, and the
   automation sensor refreshes the downstream assets because every check,
   the partition freshness check included, passed.
2. The CLI: the page's `dagster asset materialize --partition-range` command
   is `test_cli.py::test_a_partition_range_loads_in_one_run` (and
   `test_the_docs_show_the_commands_tested_here` there keeps the page's
   commands and that test the same); it needs no webserver, so it is not
   repeated here.
3. The sensors: `dagster sensor start inventory__inventory_data_change_sensor`, five
   records change at the vendor (the page's `_control/touch`, on the vendor's
   clock), the daemon loads exactly today's partition again, and the automation
   sensor refreshes the downstream assets again.
4. The UI again, on what 3 refreshed: the asset page, the graph and the Checks
   tab tell one story (the same checks, all passed), and the low-stock report.

The partition freshness deadline is every midnight, so the check wants today's
partition whenever the suite runs. Sensors tick every 2 seconds instead of
every minute, or the module would take many minutes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from dagster import AssetKey, DagsterInstance, RunsFilter
from dagster._core.scheduler.instigation import InstigatorType
from dagster._core.storage.dagster_run import RunRecord
from dagster._core.storage.tags import AUTOMATION_CONDITION_TAG, PARTITION_NAME_TAG, SENSOR_NAME_TAG

from inventory_api_sim import InventoryApiSimulator
from inventory_assets.warehouse.duckdb_file import DuckDBDestinationResource
from inventory_assets_tests.browser import chromium, new_page, save_doc_screenshot
from inventory_assets_tests.cli_runner import (
    cli_env,
    dagster,
    finish,
    write_instance_config,
)
from inventory_assets_tests.conftest import (
    INVENTORY_DATA_KEY,
    LOW_STOCK_ITEMS_KEY,
    STOCK_LEVELS_KEY,
    TEST_API_KEY,
    assert_key_in_no_file,
    day_window,
    expected_records,
    make_simulator,
    shipped_code_location,
)
from inventory_assets_tests.dagster_dev import DagsterDev, dagster_dev
from inventory_assets_tests.support import DAILY_USE, doc_commands

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

# Every wait below is bounded and says what did not happen; the timeout only backs them up.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CHANGE_SENSOR = "inventory__inventory_data_change_sensor"
START_CHANGE_SENSOR = ("sensor", "start", CHANGE_SENSOR, "-w", "workspace.yaml")  # as the docs
DATA_DAYS = (-5, 0)  # first and last day of the vendor's records, from today
UI_DAY = 0  # docs/daily-use.md: "Pick today's partition"
CHANGED_RECORDS = 5  # the page's `curl -X POST .../_control/touch?count=5`
TICK_TIMEOUT_SECONDS = 60
DAY_MARGIN = timedelta(minutes=20)  # longer than this module runs
RUN_TIMEOUT_SECONDS = 180
FAST_SENSORS = {
    "INVENTORY_CHANGE_SENSOR_INTERVAL_SECONDS": "2",
    "INVENTORY_FRESHNESS_SENSOR_INTERVAL_SECONDS": "2",
    "INVENTORY_AUTOMATION_SENSOR_INTERVAL_SECONDS": "2",
    "INVENTORY_FRESHNESS_DEADLINE_CRON": "0 0 * * *",
}


def _inventory_checks() -> list[str]:
    """The names of every check on inventory_data in the code location."""
    return sorted(
        key.name
        for key in shipped_code_location().resolve_asset_graph().asset_check_keys
        if key.asset_key == INVENTORY_DATA_KEY
    )


@dataclass(frozen=True)
class Deployment:
    """The running simulator and `dagster dev`, and where they keep their state."""

    simulator: InventoryApiSimulator
    dev: DagsterDev
    env: dict[str, str]
    root: Path
    today: date

    def day(self, offset: int) -> str:
        return (self.today + timedelta(days=offset)).isoformat()

    @property
    def instance(self) -> DagsterInstance:
        return self.dev.instance

    @property
    def destination(self) -> DuckDBDestinationResource:
        return DuckDBDestinationResource(path=self.env["INVENTORY_DUCKDB_PATH"])


def _environment(base_url: str, root: Path, first_day: date) -> dict[str, str]:
    """The environment of docs/daily-use.md for `dagster dev`, pointed at this module's files."""
    dagster_home = root / "dagster_home"
    write_instance_config(dagster_home)
    return {
        **cli_env(base_url, root / "data" / "warehouse.duckdb", dagster_home),
        **FAST_SENSORS,
        "INVENTORY_PARTITIONS_START": first_day.isoformat(),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DLT_DATA_DIR": str(root / "dlt_data"),
    }


def _a_whole_day_ahead() -> date:
    """Today (UTC), once at least `DAY_MARGIN` of it is left.

    The data, the changes and the freshness deadline are placed relative to
    today; a module that crossed UTC midnight would see partitions move under
    it. So close to midnight, wait for the new day instead.
    """
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    if midnight - now < DAY_MARGIN:
        time.sleep((midnight - now).total_seconds() + 1)
    return datetime.now(UTC).date()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("e2e")
    today = _a_whole_day_ahead()
    first, last = (today + timedelta(days=offset) for offset in DATA_DAYS)
    simulator = make_simulator(rows=600, days=(last - first).days + 1, start=first)
    try:
        env = _environment(simulator.url, root, first)
        with dagster_dev(env, root / "dagster_home", root / "dagster_dev.log") as dev:
            yield Deployment(simulator, dev, env, root, today)
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _community_dialog_pending(dev: DagsterDev) -> bool:
    return dev.graphql("{ shouldShowNux }")["shouldShowNux"]


def _skip_community_dialog(page: Page, dev: DagsterDev) -> None:
    """Skip the "Join the Dagster community" dialog first, as a new user does.

    The UI shows it once per instance, over whatever is open, when its query
    returns: late, while runs keep both cores busy, so it could pop up over the
    Materialize dialog. The server remembers the Skip, so it comes up only once.
    """
    if not _community_dialog_pending(dev):
        return
    page.goto("/")
    page.get_by_role("button", name="Skip", exact=True).click()
    dev.wait_until(
        lambda: None if _community_dialog_pending(dev) else True,
        TICK_TIMEOUT_SECONDS,
        lambda: "the UI did not store that the community dialog was skipped",
    )


@pytest.fixture
def browser_page(browser: Browser, deployment: Deployment) -> Iterator[Page]:
    """A fresh page on the UI; conftest screenshots it when the test fails."""
    with new_page(browser, deployment.dev.url) as page:
        _skip_community_dialog(page, deployment.dev)
        yield page


def _asset_path(key: AssetKey, query: str = "") -> str:
    return f"/assets/{'/'.join(key.path)}{query}"


def _expect(
    locator: Locator, message: str, timeout_seconds: float = 60, count: int | None = None
) -> None:
    """Wait until `locator` is visible (`count` times), or fail saying what is not shown."""
    from playwright.sync_api import expect

    assertion = expect(locator, message)
    if count is None:
        assertion.to_be_visible(timeout=timeout_seconds * 1000)
    else:
        assertion.to_have_count(count, timeout=timeout_seconds * 1000)


def _warehouse(deployment: Deployment, sql: str, *parameters: object) -> list[tuple]:
    """Rows of a query on the warehouse, under its lock: runs may be writing right now."""
    destination = deployment.destination
    tables = {
        name: destination.table(name)
        for name in ("inventory_data", "stock_levels", "low_stock_items")
    }
    with destination.connect() as con:
        return con.fetchall(sql.format(**tables), parameters)


def _ids_loaded_for(deployment: Deployment, day: str) -> list[int]:
    rows = _warehouse(
        deployment,
        "select id from {inventory_data} where updated_at >= %s and updated_at < %s order by id",
        *day_window(day),
    )
    return [row[0] for row in rows]


# -- 1. the UI ---------------------------------------------------------------------------------


def _launch_partition_from_the_asset_page(page: Page, partition: str) -> str:
    """Materialize… -> one partition -> Launch; returns the launched run's page."""
    page.goto(_asset_path(INVENTORY_DATA_KEY))
    page.get_by_role("button", name="Materialize…").click()
    dialog = page.get_by_role("dialog")
    partitions = dialog.get_by_placeholder("No matching partitions")
    partitions.fill(partition)
    partitions.press("Enter")
    dialog.get_by_role("button", name="Launch 1 run").click()
    run_page = page.get_by_role("link", name="View", exact=True).get_attribute("href")
    assert run_page and run_page.startswith("/runs/"), f"no link to the launched run: {run_page}"
    return run_page


def _expect_run_succeeds_in_the_ui(page: Page, run_page: str) -> None:
    page.goto(run_page)
    success = page.get_by_text("Success", exact=True).first
    failure = page.get_by_text("Failure", exact=True).first
    _expect(success.or_(failure), f"run {run_page} did not finish", RUN_TIMEOUT_SECONDS)
    _expect(success, f"run {run_page} failed; its events are in the screenshot", 1)


def _finished_at(instance: DagsterInstance, run_page: str) -> float:
    record = instance.get_run_record_by_id(run_page.removeprefix("/runs/"))
    assert record and record.end_time, f"run {run_page} has no end time"
    return record.end_time


def test_the_ui_materializes_todays_partition_and_automation_refreshes_downstream(
    deployment: Deployment, browser_page: Page
) -> None:
    """The UI walk-through of docs/daily-use.md, as written: today's partition, then automation."""
    day, instance = deployment.day(UI_DAY), deployment.instance

    run_page = _launch_partition_from_the_asset_page(browser_page, day)
    _expect_run_succeeds_in_the_ui(browser_page, run_page)

    served = [record["id"] for record in expected_records(deployment.simulator, *day_window(day))]
    assert served, "the simulator serves records on the day the UI loads"
    assert _ids_loaded_for(deployment, day) == served
    loaded_at = _finished_at(instance, run_page)
    deployment.dev.wait_until(
        lambda: _refreshed_by_automation(instance, loaded_at),
        RUN_TIMEOUT_SECONDS,
        lambda: f"automation did not refresh downstream; {_describe_runs(instance)}",
    )


# -- 3. the sensors ----------------------------------------------------------------------------


def _sensor_cursor(instance: DagsterInstance, name: str) -> str | None:
    """The sensor's cursor once a tick has set it: the first tick starts watching."""
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.name == name and state.instigator_data is not None:
            return getattr(state.instigator_data, "cursor", None)
    return None


def _change_records(simulator: InventoryApiSimulator, count: int) -> list[dict]:
    """The page's `curl -X POST .../_control/touch?count=N`: an update on the vendor's clock."""
    response = requests.post(f"{simulator.url}/_control/touch", params={"count": count}, timeout=10)
    response.raise_for_status()
    return response.json()["touched"]


def _sensor_runs(instance: DagsterInstance) -> list[RunRecord]:
    return list(instance.get_run_records(RunsFilter(tags={SENSOR_NAME_TAG: CHANGE_SENSOR})))


def _all_finished(instance: DagsterInstance, at_least: int) -> list[RunRecord] | None:
    runs = _sensor_runs(instance)
    finished = len(runs) >= at_least and all(run.dagster_run.is_finished for run in runs)
    return runs if finished else None


def _describe_runs(instance: DagsterInstance) -> str:
    return "runs so far: " + "; ".join(
        f"{run.job_name} {run.tags.get(PARTITION_NAME_TAG, '-')} {run.status.value}"
        f" ({run.tags.get(SENSOR_NAME_TAG, 'launched by hand')})"
        for run in instance.get_runs()
    )


def _refreshed_by_automation(instance: DagsterInstance, after: float) -> bool | None:
    """True once both downstream assets were materialized after `after` by automation."""
    for key in (STOCK_LEVELS_KEY, LOW_STOCK_ITEMS_KEY):
        event = instance.get_latest_materialization_event(key)
        if event is None or event.timestamp <= after:
            return None
        run = instance.get_run_by_id(event.run_id)
        assert run and run.tags.get(AUTOMATION_CONDITION_TAG) == "true", f"{key} not automated"
    return True


def _start_change_sensor(deployment: Deployment) -> None:
    """`dagster sensor start`, then wait for the daemon's first tick to start watching."""
    finish(dagster(deployment.env, *START_CHANGE_SENSOR))
    deployment.dev.wait_until(
        lambda: _sensor_cursor(deployment.instance, CHANGE_SENSOR),
        TICK_TIMEOUT_SECONDS,
        lambda: f"the daemon never ticked {CHANGE_SENSOR}",
    )


def test_the_docs_start_the_change_sensor_and_touch_records_as_tested_here() -> None:
    assert ("dagster", *START_CHANGE_SENSOR) in doc_commands(DAILY_USE, "dagster sensor start")
    touch = f"http://127.0.0.1:8000/_control/touch?count={CHANGED_RECORDS}"
    assert ("curl", "-X", "POST", touch) in doc_commands(DAILY_USE, "curl -X POST")


@dataclass(frozen=True)
class SensorRefresh:
    """What the change sensor loaded after simulated vendor changes, and when."""

    changed: dict[str, int]  # day -> records changed on it
    touched: list[dict]
    runs: list[RunRecord]


@pytest.fixture(scope="module")
def sensor_refresh(deployment: Deployment) -> SensorRefresh:
    """The sensor walk-through of docs/daily-use.md, once per module, whichever test asks first:
    start the change sensor, change records at the vendor, wait for the loads and
    the automation refresh downstream."""
    instance = deployment.instance
    _start_change_sensor(deployment)
    touched = _change_records(deployment.simulator, CHANGED_RECORDS)
    changed = {deployment.day(0): CHANGED_RECORDS}
    stamped = {record["updated_at"][:10] for record in touched}
    assert stamped == set(changed), f"the vendor's clock moved past today: {stamped}"
    runs = deployment.dev.wait_until(
        lambda: _all_finished(instance, len(changed)),
        RUN_TIMEOUT_SECONDS,
        lambda: f"the change sensor's runs did not finish; {_describe_runs(instance)}",
    )
    last_load = max(run.end_time or 0 for run in runs)
    deployment.dev.wait_until(
        lambda: _refreshed_by_automation(instance, last_load),
        RUN_TIMEOUT_SECONDS,
        lambda: f"the downstream assets were not refreshed; {_describe_runs(instance)}",
    )
    return SensorRefresh(changed, touched, runs)


def test_the_change_sensor_loads_exactly_the_changed_days_and_automation_refreshes_downstream(
    deployment: Deployment, sensor_refresh: SensorRefresh
) -> None:
    instance, runs = deployment.instance, sensor_refresh.runs
    assert sorted(run.dagster_run.tags[PARTITION_NAME_TAG] for run in runs) == sorted(
        sensor_refresh.changed
    )
    assert all(run.dagster_run.is_success for run in runs), _describe_runs(instance)
    touched = sensor_refresh.touched
    loaded = _warehouse(
        deployment,
        "select id, quantity from {inventory_data} where list_contains(%s, id)",
        [record["id"] for record in touched],
    )
    assert dict(loaded) == {record["id"]: record["quantity"] for record in touched}

    newest_loaded, newest_in_stock_levels = _warehouse(
        deployment,
        "select (select max(updated_at) from {inventory_data}),"
        " (select max(last_updated_at) from {stock_levels})",
    )[0]
    assert newest_in_stock_levels == newest_loaded, "stock_levels was refreshed with the changes"
    assert len(_sensor_runs(instance)) == len(sensor_refresh.changed), "nothing more requested"


# -- 4. the UI, on what the sensors refreshed -------------------------------------------------


def _expect_overview_with_passing_checks(page: Page) -> None:
    """The asset page's status: one badge with every check passed ("⚠1 ✓7" would fail)."""
    from playwright.sync_api import expect

    page.goto(_asset_path(INVENTORY_DATA_KEY))
    results = page.get_by_text("Latest check results", exact=True).locator("xpath=..")
    count = len(_inventory_checks())
    expect(results, "the asset page shows every check passed").to_have_text(
        re.compile(rf"^Latest check results\s*{count}$"), timeout=60_000
    )


def _expect_graph_with_passing_checks(page: Page) -> None:
    page.goto(
        _asset_path(INVENTORY_DATA_KEY, "?view=lineage&lineageScope=downstream&lineageDepth=2")
    )
    page.get_by_role("button", name="Hide navigation").click()  # more room for the graph
    count = len(_inventory_checks())
    _expect(page.get_by_text(f"{count} / {count} Passed"), "the graph shows all checks passed")
    _expect(page.get_by_text("Materialized", exact=True).last, "the graph shows the refresh")
    save_doc_screenshot(page, "asset-graph.png")


def _expect_checks_and_freshness(page: Page) -> None:
    """Every check, the partition freshness check included, succeeded: one story."""
    page.goto(_asset_path(INVENTORY_DATA_KEY, "?view=checks"))
    checks = _inventory_checks()
    _expect(page.get_by_text(f"Checks ({len(checks)})", exact=True), "the Checks tab")
    for name in checks:
        _expect(page.get_by_text(name, exact=True).first, f"the Checks tab lists {name}")
    succeeded = page.get_by_text("Succeeded", exact=True)
    _expect(succeeded, "the Checks tab shows every check succeeded", count=len(checks))


def _expect_low_stock_report_with_chart(page: Page, low_stock_items: int) -> None:
    page.goto(_asset_path(LOW_STOCK_ITEMS_KEY))
    page.get_by_text("[Show Markdown]").click()
    report = page.get_by_role("dialog")
    chart = report.get_by_role("img", name="Low-stock items by warehouse")
    _expect(chart, "the report shows the low-stock chart")
    assert chart.evaluate("image => image.naturalWidth") > 0, "the chart's PNG decodes"
    summary = report.get_by_text(f"{low_stock_items} items", exact=True)
    _expect(summary, f"the report counts the {low_stock_items} low-stock items")
    save_doc_screenshot(report, "low-stock-report.png")


def test_the_asset_page_the_graph_and_the_checks_tab_tell_one_story(
    deployment: Deployment, sensor_refresh: SensorRefresh, browser_page: Page
) -> None:
    _expect_overview_with_passing_checks(browser_page)
    _expect_graph_with_passing_checks(browser_page)
    _expect_checks_and_freshness(browser_page)
    ((low_stock_items,),) = _warehouse(deployment, "select count(*) from {low_stock_items}")
    _expect_low_stock_report_with_chart(browser_page, low_stock_items)


def test_the_api_key_is_in_no_log_and_no_file(deployment: Deployment) -> None:
    assert TEST_API_KEY not in deployment.dev.log_path.read_text(errors="replace")
    assert_key_in_no_file(deployment.root)
