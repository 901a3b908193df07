"""Vendors that deviate from the contract, imitated by the simulator's switches.

For each deviation: with the default settings, either an exact load or a
failure before anything is written, whose message names the deviation and the
setting that fixes it; with that setting, an exact load of two partitions
(rows, values, nothing outside the window); and `inventory-api-probe`
recommends exactly that setting, and is content with the plain contract.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance, Definitions, build_sensor_context, materialize

from inventory_api_sim import InventoryApiSimulator
from inventory_assets.defs.inventory_api.component import EndpointDefinitions, build_endpoints
from inventory_assets.defs.inventory_api.resources import (
    ResourceKeys,
    VendorApiResource,
    vendor_api_resource,
)
from inventory_assets.probe.behaviour import probe
from inventory_assets.probe.cli import main as probe_main
from inventory_assets.probe.job import build_probe_job
from inventory_assets.settings import InventorySettings
from inventory_assets_tests.conftest import (
    CONTRACT_COLUMNS,
    TEST_API_KEY,
    as_warehouse_row,
    assert_secret_in_no_event,
    check_evaluation,
    contract_endpoint,
    day_window,
    expected_records,
    ingest_metadata,
    inventory_endpoint,
    make_resources,
    make_simulator,
    materialize_endpoint,
    settings_for,
    step_failure_message,
    warehouse_rows,
)

DAYS = ("2026-11-02", "2026-11-03")
IGNORED_WINDOW = ("ignored the window", "INVENTORY_WINDOW_START_PARAM", "client_window")


@pytest.fixture
def vendor(simulator: InventoryApiSimulator) -> InventoryApiSimulator:
    """conftest's simulator, named for the part it plays here: the deviating vendor."""
    return simulator


class Deployment:
    """The code location as a given environment configures it, pointed at the simulator."""

    def __init__(self, sim: InventoryApiSimulator, tmp_path: Path, env: dict[str, str]) -> None:
        self.settings: InventorySettings = settings_for(env)
        self.endpoints = build_endpoints(self.settings)
        self.inventory: EndpointDefinitions = self.endpoints["inventory_data"]
        self.duckdb_path = tmp_path / "data" / "warehouse.duckdb"
        self.resources = make_resources(sim.url, self.duckdb_path, tmp_path)
        self.resources["inventory_vendor_api"] = vendor_api_resource(
            self.settings.api,
            base_url=sim.url,
            api_key=TEST_API_KEY,
            backoff_factor=0.01,
            request_timeout_seconds=5,
        )
        self.instance = DagsterInstance.ephemeral()

    def load(self, partition: str | None = None, checks: bool = False, **kwargs: Any):
        return materialize_endpoint(
            self.inventory, self.resources, self.instance, partition, checks, **kwargs
        )

    def probe(self, sim: InventoryApiSimulator, endpoint: str = "inventory_data"):
        """The probe of `endpoint` as the CLI and the job run it, on this deployment."""
        endpoint_settings = self.settings.endpoints[endpoint]
        vendor_api = self.resources["inventory_vendor_api"]
        return probe(
            vendor_api.client(max_retries=1),
            endpoint_settings.endpoint(endpoint, self.settings.api),
            endpoint_settings.sync_mode,
            vendor_api.auth_as_written(),
        )


def _rows_of(sim: InventoryApiSimulator, *days: str) -> list[tuple]:
    records = [r for day in days for r in expected_records(sim, *day_window(day))]
    return sorted((as_warehouse_row(r) for r in records), key=lambda row: row[0])


def _assert_exact_loads_of_two_partitions(sim, deployment: Deployment) -> None:
    for day in DAYS:
        result = deployment.load(day)
        assert result.success, step_failure_message(result)
    assert warehouse_rows(deployment.duckdb_path, CONTRACT_COLUMNS) == _rows_of(sim, *DAYS)


def _assert_refused_before_writing(result, deployment: Deployment, *words: str) -> None:
    message = step_failure_message(result)
    for word in words:
        assert word in message, message
    assert "Nothing was loaded" in message
    assert warehouse_rows(deployment.duckdb_path) == [], "nothing of a refused window is written"


def _probe_recommends(sim, tmp_path: Path, env: dict[str, str], needed: dict[str, str]) -> None:
    """The probe, with the defaults, asks for `needed`; with it, it is content."""
    report = Deployment(sim, tmp_path / "probe-defaults", env).probe(sim)
    assert report.needed == needed, report.findings
    assert report.loads_correctly is (not needed)
    assert report.requests <= 20
    if needed:
        fixed = Deployment(sim, tmp_path / "probe-fixed", {**env, **needed}).probe(sim)
        assert fixed.loads_correctly, fixed.findings


# -- the plain contract ------------------------------------------------------------------------


def test_the_probe_is_content_with_the_contract(vendor, tmp_path: Path) -> None:
    _probe_recommends(vendor, tmp_path, {}, {})


def test_the_probe_console_script_exits_0_and_never_prints_the_key(
    vendor, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("INVENTORY_API_BASE_URL", vendor.url)
    monkeypatch.setenv("INVENTORY_API_KEY", TEST_API_KEY)

    assert probe_main([]) == 0

    out = capsys.readouterr()
    assert "The current settings load this vendor correctly." in out.out
    assert "window parameters honoured" in out.out
    assert TEST_API_KEY not in out.out + out.err


# -- a vendor that ignores the window ----------------------------------------------------------


def test_a_vendor_that_ignores_the_window_is_refused_before_anything_is_written(
    vendor, tmp_path: Path
) -> None:
    vendor.deviate(ignore_window=True)
    deployment = Deployment(vendor, tmp_path, {})

    result = deployment.load(DAYS[0])

    _assert_refused_before_writing(result, deployment, *IGNORED_WINDOW, "updated_since=")
    assert vendor.request_count == 1, "refused at the first page"


def test_client_window_loads_a_vendor_that_cannot_filter_exactly(vendor, tmp_path: Path) -> None:
    vendor.deviate(ignore_window=True)
    env = {"INVENTORY_SYNC_MODE": "client_window"}

    _assert_exact_loads_of_two_partitions(vendor, Deployment(vendor, tmp_path, env))
    _probe_recommends(vendor, tmp_path, {}, env)


def test_client_window_pages_the_listing_once_for_a_range(vendor, tmp_path: Path) -> None:
    vendor.deviate(ignore_window=True)
    deployment = Deployment(vendor, tmp_path, {"INVENTORY_SYNC_MODE": "client_window"})
    vendor.reset_stats()

    result = materialize(
        [deployment.inventory.assets],
        resources=deployment.resources,
        instance=deployment.instance,
        tags={"dagster/asset_partition_range_start": DAYS[0]}
        | {"dagster/asset_partition_range_end": DAYS[1]},
    )

    assert result.success
    listing_pages = len(vendor.records) // 100 + 1
    assert vendor.request_count == listing_pages, "one pass over the listing for both days"
    assert warehouse_rows(deployment.duckdb_path, CONTRACT_COLUMNS) == _rows_of(vendor, *DAYS)
    first, *_ = result.asset_materializations_for_node("load_inventory__inventory_data")
    outside = len(vendor.records) - len(_rows_of(vendor, *DAYS))
    assert first.metadata["inventory/outside_window"].value == outside


# -- a vendor that names the window parameters differently -------------------------------------


def test_renamed_window_parameters_are_refused_then_loaded_with_their_names(
    vendor, tmp_path: Path
) -> None:
    vendor.deviate(window_params=("modified_after", "modified_before"))
    default = Deployment(vendor, tmp_path / "defaults", {})

    _assert_refused_before_writing(default.load(DAYS[0]), default, *IGNORED_WINDOW)

    env = {
        "INVENTORY_WINDOW_START_PARAM": "modified_after",
        "INVENTORY_WINDOW_END_PARAM": "modified_before",
    }
    _assert_exact_loads_of_two_partitions(vendor, Deployment(vendor, tmp_path / "named", env))
    _probe_recommends(vendor, tmp_path, {}, env)


# -- totals -----------------------------------------------------------------------------------


def test_pages_without_a_total_load_exactly_with_the_defaults_and_with_the_setting(
    vendor, tmp_path: Path
) -> None:
    vendor.deviate(omit_total=True)

    default = Deployment(vendor, tmp_path / "defaults", {})
    _assert_exact_loads_of_two_partitions(vendor, default)
    result = default.load(DAYS[0])
    assert ingest_metadata(result)["inventory/total_missing"].value is True

    explicit = Deployment(vendor, tmp_path / "explicit", {"INVENTORY_TOTAL_PATH": ""})
    _assert_exact_loads_of_two_partitions(vendor, explicit)
    _probe_recommends(vendor, tmp_path, {}, {})


def test_a_total_that_ignores_the_window_is_named_as_such(vendor, tmp_path: Path) -> None:
    vendor.deviate(total_ignores_window=True)
    default = Deployment(vendor, tmp_path / "defaults", {})

    result = default.load(DAYS[0])

    _assert_refused_before_writing(
        result, default, "total seems to ignore the window", "INVENTORY_TOTAL_PATH="
    )
    assert "records were skipped" not in step_failure_message(result)

    env = {"INVENTORY_TOTAL_PATH": ""}
    _assert_exact_loads_of_two_partitions(vendor, Deployment(vendor, tmp_path / "fixed", env))
    _probe_recommends(vendor, tmp_path, {}, env)


# -- page size and value types ----------------------------------------------------------------


def test_a_vendor_that_caps_its_pages_loads_exactly(vendor, tmp_path: Path) -> None:
    vendor.deviate(page_cap=50)
    default = Deployment(vendor, tmp_path / "defaults", {})

    _assert_exact_loads_of_two_partitions(vendor, default)
    assert ingest_metadata(default.load(DAYS[0]))["inventory/vendor_page_size"].value == 50

    capped = Deployment(vendor, tmp_path / "capped", {"INVENTORY_PAGE_SIZE": "50"})
    _assert_exact_loads_of_two_partitions(vendor, capped)
    report = default.probe(vendor)
    assert report.loads_correctly and report.suggested.get("INVENTORY_PAGE_SIZE") == "50"


def test_ids_and_quantities_as_numeric_strings_load_as_integers(vendor, tmp_path: Path) -> None:
    vendor.deviate(numbers_as_strings=True)
    deployment = Deployment(vendor, tmp_path, {})

    _assert_exact_loads_of_two_partitions(vendor, deployment)
    assert ingest_metadata(deployment.load(DAYS[0]))["inventory/rows_rejected"].value == 0
    report = deployment.probe(vendor)
    assert report.loads_correctly
    assert "numeric strings" in {f.check: f.detail for f in report.findings}["id type"]


def test_integers_as_integral_floats_load_as_integers(vendor, tmp_path: Path) -> None:
    """`3212.0`, as many serializers write an integer: nothing is lost, nothing rejected."""
    vendor.deviate(integers_as_floats=True)
    deployment = Deployment(vendor, tmp_path, {})

    _assert_exact_loads_of_two_partitions(vendor, deployment)
    assert ingest_metadata(deployment.load(DAYS[0]))["inventory/rows_rejected"].value == 0


def test_a_fractional_quantity_is_still_rejected_with_its_reason(vendor, tmp_path: Path) -> None:
    deployment = Deployment(vendor, tmp_path, {})
    record = {**vendor.records[0], "id": 990001, "quantity": 120.5}
    record["updated_at"] = f"{DAYS[0]}T12:00:00Z"
    vendor.put_raw(record)

    result = deployment.load(DAYS[0])

    assert result.success
    (rejected,) = ingest_metadata(result)["inventory/rejected_sample"].value
    assert rejected == {"id": 990001, "reason": "quantity: expected integer, got float 120.5"}


def test_an_empty_window_served_as_null_data_loads_empty(vendor, tmp_path: Path) -> None:
    """`{"data": null, "total": 0}`: an empty page, not a page to retry forever."""
    vendor.deviate(null_when_empty=True)
    deployment = Deployment(vendor, tmp_path, {})

    result = deployment.load("2026-10-01", checks=True)

    assert result.success, step_failure_message(result)
    assert ingest_metadata(result)["inventory/rows_loaded"].value == 0
    assert check_evaluation(result, "rows_match_api").passed
    _assert_exact_loads_of_two_partitions(vendor, deployment)


def test_records_moving_while_a_window_is_paged_are_paged_again_until_consistent(
    vendor, tmp_path: Path
) -> None:
    """A busy vendor: the first pass skips one record and serves another twice."""
    vendor.deviate(moves_while_paging=1)
    deployment = Deployment(vendor, tmp_path, {})

    result = deployment.load(DAYS[0])

    assert result.success, step_failure_message(result)
    assert ingest_metadata(result)["inventory/passes"].value == 2
    assert warehouse_rows(deployment.duckdb_path, CONTRACT_COLUMNS) == _rows_of(vendor, DAYS[0])
    logged = [
        entry.user_message
        for entry in deployment.instance.all_logs(result.run_id)
        if "came up short" in entry.user_message
    ]
    assert len(logged) == 1 and "ids served twice" in logged[0], logged


def test_without_a_total_an_id_served_twice_is_paged_again(vendor, tmp_path: Path) -> None:
    """No total to fall short of: the repeat is the only sign of the skipped record."""
    vendor.deviate(omit_total=True, moves_while_paging=1)
    deployment = Deployment(vendor, tmp_path, {})

    result = deployment.load(DAYS[0])

    assert result.success, step_failure_message(result)
    assert ingest_metadata(result)["inventory/passes"].value == 2
    assert warehouse_rows(deployment.duckdb_path, CONTRACT_COLUMNS) == _rows_of(vendor, DAYS[0])

    vendor.deviate(moves_while_paging=10)
    busy = Deployment(vendor, tmp_path / "busy", {"INVENTORY_REPAGE_PASSES": "1"})
    _assert_refused_before_writing(busy.load(DAYS[1]), busy, "announced no total", "served")


def test_a_vendor_busier_than_the_passes_fails_naming_the_setting(vendor, tmp_path: Path) -> None:
    vendor.deviate(moves_while_paging=10)
    deployment = Deployment(vendor, tmp_path, {"INVENTORY_REPAGE_PASSES": "1"})

    result = deployment.load(DAYS[0])

    _assert_refused_before_writing(result, deployment, "in each of 2 passes", "REPAGE_PASSES")


# -- deletes ---------------------------------------------------------------------------------


def test_in_window_mode_rows_match_api_names_the_ids_the_api_no_longer_serves(
    vendor, tmp_path: Path
) -> None:
    deployment = Deployment(vendor, tmp_path, {})
    assert deployment.load(DAYS[0]).success
    deleted = sorted(r["id"] for r in vendor.delete_random(3, day=DAYS[0]))

    result = deployment.load(DAYS[0], checks=True)

    evaluation = check_evaluation(result, "rows_match_api")
    assert not evaluation.passed
    assert evaluation.metadata["no_longer_served"].value == deleted
    description = evaluation.description or ""
    assert "no longer served by the API" in description
    assert "INVENTORY_SYNC_MODE=client_window" in description and "INVENTORY_DELETES" in description


@pytest.mark.parametrize("deletes", ["keep", "flag", "delete"])
def test_a_whole_listing_reports_flags_or_deletes_what_the_vendor_deleted(
    vendor, tmp_path: Path, deletes: str
) -> None:
    env = {"INVENTORY_SYNC_MODE": "client_window", "INVENTORY_DELETES": deletes}
    deployment = Deployment(vendor, tmp_path, env)
    assert deployment.load(DAYS[0]).success
    deleted = sorted(r["id"] for r in vendor.delete_random(3, day=DAYS[0]))

    result = deployment.load(DAYS[0])

    assert result.success
    metadata = ingest_metadata(result)
    assert metadata["inventory/vendor_deleted"].value == 3
    assert metadata["inventory/vendor_deleted_sample"].value == deleted
    ids = [row[0] for row in warehouse_rows(deployment.duckdb_path, "id")]
    if deletes == "delete":
        assert not set(deleted) & set(ids)
        return
    assert set(deleted) <= set(ids), "kept or flagged, never silently dropped"
    if deletes == "flag":
        flagged = warehouse_rows(deployment.duckdb_path, "id, _vendor_deleted_at is not null")
        assert sorted(key for key, marked in flagged if marked) == deleted


# -- the probe in the UI, and checks on a flaky API -------------------------------------------


def test_the_probe_job_reports_and_fails_naming_the_settings(vendor, tmp_path: Path) -> None:
    deployment = Deployment(vendor, tmp_path, {})
    job = build_probe_job(ResourceKeys("inventory"), [contract_endpoint()])
    resources = {"inventory_vendor_api": deployment.resources["inventory_vendor_api"]}

    ok = job.execute_in_process(resources=resources, instance=deployment.instance)
    assert ok.success
    (output,) = [e for e in ok.all_events if e.event_type_value == "STEP_OUTPUT"]
    report = output.step_output_data.metadata["inventory_data"].value
    assert "| window parameters honoured | ok |" in report

    vendor.deviate(ignore_window=True)
    failed = job.execute_in_process(
        resources=resources, instance=deployment.instance, raise_on_error=False
    )
    assert "INVENTORY_SYNC_MODE=client_window" in step_failure_message(failed)
    assert_secret_in_no_event(deployment.instance, TEST_API_KEY)


def _reconcile(deployment: Deployment, day: str):
    """`inventory__inventory_data_reconcile_job` for `day`: rows_match_api alone, after the load."""
    inventory = deployment.inventory
    defs = Definitions(
        assets=[inventory.assets],
        asset_checks=[inventory.rows_match_api],
        jobs=[inventory.reconcile_job],
        resources=deployment.resources,
    )
    return defs.resolve_job_def(inventory.reconcile_job.name).execute_in_process(
        instance=deployment.instance, tags={"dagster/partition": day}, raise_on_error=False
    )


def test_two_server_errors_in_a_row_during_the_checks_are_retried(vendor, tmp_path: Path) -> None:
    deployment = Deployment(vendor, tmp_path, {})
    assert deployment.load(DAYS[0]).success
    vendor.fail_next(503, times=2)

    result = _reconcile(deployment, DAYS[0])

    assert result.success
    assert check_evaluation(result, "rows_match_api").passed


def test_an_unreachable_api_during_the_checks_warns_and_keeps_the_data(
    vendor, tmp_path: Path
) -> None:
    deployment = Deployment(vendor, tmp_path, {})
    assert deployment.load(DAYS[0]).success
    vendor.fail_next(503, times=8)

    result = _reconcile(deployment, DAYS[0])

    assert result.success, "a check that cannot ask the API is a warning, not a failed run"
    evaluation = check_evaluation(result, "rows_match_api")
    assert not evaluation.passed
    description = evaluation.description or ""
    assert "after 3 retries" in description and "rows this run loaded are kept" in description
    assert "Nothing of this run was loaded" not in description
    assert warehouse_rows(deployment.duckdb_path, CONTRACT_COLUMNS) == _rows_of(vendor, DAYS[0])


MAINTENANCE = ["html", "truncated"]  # 200s that are no page: maintenance, a cut-off body


def _reconcile_through_maintenance(vendor, tmp_path: Path, kind: str, times: int):
    """Load a day, then reconcile it while the vendor serves `times` maintenance pages."""
    deployment = Deployment(vendor, tmp_path, {})
    assert deployment.load(DAYS[0]).success
    vendor.serve_next(kind, times=times)
    result = _reconcile(deployment, DAYS[0])
    assert result.success, "a check that cannot read the API is a warning, not a failed run"
    return deployment, check_evaluation(result, "rows_match_api")


@pytest.mark.parametrize("kind", MAINTENANCE)
def test_a_maintenance_page_during_the_checks_is_retried_as_in_a_load(
    vendor, tmp_path: Path, kind: str
) -> None:
    _, evaluation = _reconcile_through_maintenance(vendor, tmp_path, kind, times=2)
    assert evaluation.passed, evaluation.description


@pytest.mark.parametrize("kind", MAINTENANCE)
def test_maintenance_that_outlasts_the_retries_warns_in_one_line_and_keeps_the_data(
    vendor, tmp_path: Path, kind: str
) -> None:
    deployment, evaluation = _reconcile_through_maintenance(vendor, tmp_path, kind, times=8)

    assert not evaluation.passed and evaluation.severity.value == "WARN"
    description = evaluation.description or ""
    assert "is not JSON" in description and "rows this run loaded are kept" in description
    assert "Traceback" not in description and "\n" not in description
    assert warehouse_rows(deployment.duckdb_path, CONTRACT_COLUMNS) == _rows_of(vendor, DAYS[0])


@pytest.mark.parametrize("kind", MAINTENANCE)
@pytest.mark.parametrize("mode", ["window", "client_window"])
def test_a_change_sensor_meeting_maintenance_retries_then_skips_naming_it(
    vendor, tmp_path: Path, kind: str, mode: str
) -> None:
    if mode == "client_window":
        vendor.deviate(ignore_window=True)
    env = {"INVENTORY_SYNC_MODE": mode, "INVENTORY_PARTITIONS_START": "2026-11-01"}
    sensor = Deployment(vendor, tmp_path, env).inventory.change_sensor
    watching = _tick(sensor, vendor, None)
    vendor.touch_random(2)  # on the vendor's clock: just after its newest, on 2026-11-05

    vendor.serve_next(kind, times=1)
    retried = _tick(sensor, vendor, watching.cursor)
    vendor.touch_random(1)
    vendor.serve_next(kind, times=6)
    skipped = _tick(sensor, vendor, retried.cursor)

    assert [r.partition_key for r in retried.run_requests] == ["2026-11-05"]
    message = str(getattr(skipped, "skip_message", None) or skipped.skip_reason)
    assert "not JSON" in message and "Traceback" not in message


def test_under_the_fault_mix_a_load_and_its_checks_never_fail_a_run_whose_data_landed(
    tmp_path: Path,
) -> None:
    """429s with Retry-After, 5xx and resets, at random but seeded: every run either
    fails in its load (nothing landed) or succeeds, its checks included."""
    sim = make_simulator(fault_rate=0.25, retry_after_seconds=0)
    try:
        deployment = Deployment(sim, tmp_path, {})
        outcomes = [deployment.load(day, checks=True) for day in (*DAYS, *DAYS)]
    finally:
        sim.stop()
    for result in outcomes:
        if not result.success:
            assert "load_inventory__inventory_data" in str(
                [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            ), "only a load may fail the run"
    assert any(result.success for result in outcomes)


# -- change sensors of whole listings ----------------------------------------------------------


def _tick(sensor, sim: InventoryApiSimulator, cursor: str | None):
    api = VendorApiResource(base_url=sim.url, api_key=TEST_API_KEY, backoff_factor=0.01)
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(
            instance=instance, cursor=cursor, resources={"inventory_vendor_api": api}
        )
        return sensor(context)


def test_a_full_listing_is_loaded_again_when_its_signature_changes(vendor, tmp_path: Path) -> None:
    sensor = Deployment(vendor, tmp_path, {}).endpoints["warehouses"].change_sensor
    watching = _tick(sensor, vendor, None)
    assert not watching.run_requests
    assert _tick(sensor, vendor, watching.cursor).run_requests == [], "nothing changed"

    code = vendor.warehouses[0]["code"]
    vendor.touch_warehouse(code, datetime(2026, 11, 20, 9, tzinfo=UTC), capacity=1)
    changed = _tick(sensor, vendor, watching.cursor)

    (request,) = changed.run_requests
    assert request.partition_key is None
    assert vendor.request_count <= 8, "a signature costs two small requests a tick"


def _watching_a_client_window_listing(vendor, tmp_path: Path):
    """A vendor that cannot filter, its client_window change sensor, and its first tick."""
    vendor.deviate(ignore_window=True)
    env = {"INVENTORY_SYNC_MODE": "client_window", "INVENTORY_PARTITIONS_START": "2026-11-01"}
    sensor = Deployment(vendor, tmp_path, env).inventory.change_sensor
    return sensor, _tick(sensor, vendor, None)


def test_a_client_window_listing_requests_the_days_of_its_newer_records(
    vendor, tmp_path: Path
) -> None:
    sensor, watching = _watching_a_client_window_listing(vendor, tmp_path)

    vendor.touch_random(2, day="2026-11-06")
    vendor.touch_random(1, day="2026-11-07")
    changed = _tick(sensor, vendor, watching.cursor)

    assert sorted(r.partition_key for r in changed.run_requests) == ["2026-11-06", "2026-11-07"]


def test_a_listing_sensor_loses_no_record_that_shares_the_newest_instant(
    vendor, tmp_path: Path
) -> None:
    """Records changed at exactly the instant the last tick saw as newest are new too."""
    sensor, watching = _watching_a_client_window_listing(vendor, tmp_path)
    newest_at = datetime.fromisoformat(vendor.state()["newest_updated_at"].replace("Z", "+00:00"))
    newest_day = newest_at.date().isoformat()
    oldest_ids = sorted(record["id"] for record in vendor.records)[:3]

    vendor.touch(oldest_ids[:2], newest_at, quantity=7)
    first = _tick(sensor, vendor, watching.cursor)
    vendor.touch(oldest_ids[2:], newest_at, quantity=8)
    second = _tick(sensor, vendor, first.cursor)
    quiet = _tick(sensor, vendor, second.cursor)

    assert [r.partition_key for r in first.run_requests] == [newest_day]
    assert [r.partition_key for r in second.run_requests] == [newest_day], "a third one, later"
    assert first.run_requests[0].run_key != second.run_requests[0].run_key
    assert quiet.run_requests == [], "each record at that instant is requested once"


def test_the_change_sensor_skips_naming_a_vendor_that_ignores_the_window(vendor) -> None:
    """In window mode the sensor's reads are windowed too: it refuses to trust them."""
    watching = _tick(inventory_endpoint().change_sensor, vendor, None)
    vendor.deviate(ignore_window=True)
    vendor.touch_random(2, day="2026-11-05")

    skipped = _tick(inventory_endpoint().change_sensor, vendor, watching.cursor)

    assert "ignored the window" in str(skipped.skip_message)
    assert "INVENTORY_SYNC_MODE=client_window" in str(skipped.skip_message)
