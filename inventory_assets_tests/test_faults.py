"""The fault suite: a hostile API over real HTTP, each case with a defined outcome.

Every case checks the outcome and its message, that the destination holds
exactly the right rows after the failure and after the run that follows, and
that the API key appears in no event, log line, error or file the runs wrote.
The simulator echoes the request URL (key included) in its error bodies, so a
leak through a server message would be caught too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckSeverity, DagsterInstance

from inventory_api_sim import InventoryApiSimulator
from inventory_assets_tests.conftest import (
    TEST_API_KEY,
    assert_key_in_no_file,
    check_evaluation,
    day_window,
    expected_records,
    ingest_metadata,
    make_resources,
    make_simulator,
    materialize_partition,
    step_failure_message,
    warehouse_rows,
)

DAY = "2026-11-03"
NOON = datetime(2026, 11, 3, 12, tzinfo=UTC)


@pytest.fixture
def hostile() -> Iterator[InventoryApiSimulator]:
    sim = make_simulator(echo_url_in_errors=True)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def api(hostile, duckdb_path: Path, tmp_path: Path) -> dict:
    return make_resources(hostile.url, duckdb_path, tmp_path, request_timeout_seconds=1.0)


def _ids(duckdb_path: Path) -> list[int]:
    return [row[0] for row in warehouse_rows(duckdb_path, "id")]


def _served_ids(sim: InventoryApiSimulator) -> list[int]:
    return [record["id"] for record in expected_records(sim, *day_window(DAY))]


def _assert_no_key_anywhere(instance: DagsterInstance, tmp_path: Path, caplog) -> None:
    assert TEST_API_KEY not in caplog.text
    for run in instance.get_runs():
        for record in instance.all_logs(run.run_id):
            assert TEST_API_KEY not in str(record)
    assert_key_in_no_file(tmp_path)


@pytest.fixture
def run_case(hostile, api, instance, duckdb_path, tmp_path, caplog):
    """Load DAY, change a record, break the API: the run fails clearly and changes
    nothing; the next run completes the window exactly; the key leaked nowhere."""

    def run(inject, expect: str, after=lambda: None) -> None:
        materialize_partition(api, DAY, instance)
        before = warehouse_rows(duckdb_path)
        changed = _served_ids(hostile)[0]
        hostile.touch([changed], NOON, quantity=777)

        inject()
        failed = materialize_partition(api, DAY, instance, raise_on_error=False)
        assert expect in step_failure_message(failed)
        assert warehouse_rows(duckdb_path) == before, "a failed run must change nothing"
        after()

        materialize_partition(api, DAY, instance)
        assert _ids(duckdb_path) == _served_ids(hostile)
        assert (changed, 777) in warehouse_rows(duckdb_path, "id, quantity")
        _assert_no_key_anywhere(instance, tmp_path, caplog)

    return run


@pytest.mark.parametrize(
    ("kind", "options", "expect"),
    [
        ("html", {}, "a page that is not JSON (text/html) at /v1/resource (offset 0)"),
        ("no_data", {}, "a page without a `data` list at /v1/resource (offset 0)"),
        ("data_not_list", {}, "without a `data` list at /v1/resource (offset 0) (got dict)"),
        ("stall", {"seconds": 3}, "did not answer in time"),
        ("reset", {}, "broke off the connection"),
    ],
)
def test_a_broken_page_fails_clearly_and_the_next_run_completes(
    hostile, run_case, kind, options, expect
) -> None:
    run_case(lambda: hostile.serve_next(kind, times=4, **options), expect)


def test_a_huge_page_fails_at_once_and_the_next_run_completes(hostile, run_case) -> None:
    run_case(
        lambda: hostile.serve_next("huge", times=1, records=5000),
        "5000 records at /v1/resource (offset 0), more than the requested limit of 100",
    )


@pytest.mark.parametrize("kind", ["html", "no_data", "reset"])
def test_one_broken_page_is_retried(hostile, api, instance, duckdb_path, kind) -> None:
    hostile.serve_next(kind, times=1)

    result = materialize_partition(api, DAY, instance)

    assert _ids(duckdb_path) == _served_ids(hostile)
    metadata = ingest_metadata(result)
    assert metadata["inventory/retries"].value == 1, "the broken page was retried once"
    assert metadata["inventory/pages_fetched"].value == len(_served_ids(hostile)) // 100 + 1


def test_server_errors_that_echo_the_url_do_not_leak_the_key(hostile, run_case) -> None:
    run_case(
        lambda: hostile.fail_next(500, times=4),
        "HTTP 500 at /v1/resource (offset 0) after 3 retries",
    )


def test_an_empty_page_in_the_middle_fails_and_the_next_run_completes(hostile, run_case) -> None:
    run_case(
        lambda: hostile.serve_next("empty", times=1),
        "empty page at offset 0 but more records after it",
    )


def test_a_total_larger_than_the_records_fails_as_incomplete(hostile, run_case) -> None:
    """Paging stops at the short last page; the shortfall fails the run, loading nothing."""
    run_case(
        lambda: hostile.set_total_delta(+250),
        "250 records were skipped",
        after=lambda: hostile.set_total_delta(0),
    )
    assert hostile.request_count <= 3 * (len(_served_ids(hostile)) // 100 + 3), "no paging on"


def test_a_short_first_page_is_paged_on_from_what_arrived(
    hostile, api, instance, duckdb_path
) -> None:
    """The first page comes with 50 of its 100 records while the total says more remain:
    paging goes on from offset 50 (what arrived), so nothing is skipped."""
    hostile.serve_next("short", times=1)

    materialize_partition(api, DAY, instance)

    assert _ids(duckdb_path) == _served_ids(hostile)
    offsets = [int(request["offset"]) for request in hostile.requests]
    assert offsets[:2] == [0, 50]


def test_a_total_smaller_than_the_records_drops_nothing(
    hostile, api, instance, duckdb_path
) -> None:
    hostile.set_total_delta(-150)

    materialize_partition(api, DAY, instance)

    assert _ids(duckdb_path) == _served_ids(hostile)


def _raw(record_id, **fields) -> dict:
    return {
        "id": record_id,
        "inventory_id": "INV-RAW",
        "product_name": "raw",
        "sku": None,
        "quantity": 3,
        "unit_price": "1.00",
        "warehouse": "WH-RAW",
        "updated_at": "2026-11-03T06:00:00Z",
        **fields,
    }


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({k: v for k, v in _raw(None).items() if k != "id"}, "id: expected integer, got null"),
        (_raw(90001, quantity="abc"), "quantity: expected integer, got str 'abc'"),
        (_raw(90002, unit_price="n/a"), "unit_price: expected a decimal of at most 4 places"),
        (_raw(90005, unit_price="1.23456"), "places, got str '1.23456'"),
        (_raw(90003, updated_at="yesterday"), "updated_at: expected an ISO 8601 timestamp"),
        (_raw(90004, product_name="nul\x00inside"), "product_name: contains a NUL character"),
    ],
)
def test_a_record_that_breaks_the_contract_is_set_aside_and_reported(
    hostile, api, instance, duckdb_path, tmp_path, caplog, record, reason
) -> None:
    valid = _served_ids(hostile)
    hostile.put_raw(record)

    result = materialize_partition(api, DAY, instance)

    assert _ids(duckdb_path) == valid, "the valid records all load"
    metadata = ingest_metadata(result)
    assert metadata["inventory/rows_rejected"].value == 1
    assert reason in metadata["inventory/rejected_sample"].value[0]["reason"]
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        rejected = con.execute(
            "select reason, record from inventory.inventory_data_rejected"
        ).fetchall()
    assert len(rejected) == 1
    assert reason in rejected[0][0]
    assert '"inventory_id": "INV-RAW"' in rejected[0][1]
    _assert_no_key_anywhere(instance, tmp_path, caplog)


def test_a_negative_quantity_loads_and_is_flagged(hostile, api, instance, duckdb_path) -> None:
    hostile.put_raw(_raw(90010, quantity=-4))

    result = materialize_partition(api, DAY, instance, raise_on_error=False, with_checks=True)

    assert (90010, -4) in warehouse_rows(duckdb_path, "id, quantity")
    flagged = check_evaluation(result, "quantity_not_negative")
    assert not flagged.passed and flagged.severity == AssetCheckSeverity.ERROR
    assert flagged.metadata["sample_ids"].value == [90010]


def test_an_id_served_twice_in_one_window_fails_as_incomplete(
    hostile, api, instance, duckdb_path
) -> None:
    """`id` is the contract's primary key: two records with one id leave one record unserved."""
    hostile.put_raw(_raw(90020, quantity=1, updated_at="2026-11-03T01:00:00Z"))
    hostile.put_raw(_raw(90020, quantity=2, updated_at="2026-11-03T02:00:00Z"))

    failed = materialize_partition(api, DAY, instance, raise_on_error=False)

    assert "ids served twice: [90020]" in step_failure_message(failed)
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables").fetchall()
    assert ("inventory_data",) not in tables, "nothing of an incomplete window is loaded"


# -- the key in the vendor's data --------------------------------------------------------------


def test_a_value_that_echoes_the_key_is_masked_counted_and_warned(
    hostile, api, instance, duckdb_path, tmp_path, caplog
) -> None:
    """A vendor that echoes a signed link: the key is masked there, and loudly."""
    hostile.add_field("download_url", f"https://cdn.example/sheet?api_key={TEST_API_KEY}")

    result = materialize_partition(api, DAY, instance)

    served = expected_records(hostile, *day_window(DAY))
    assert ingest_metadata(result)["inventory/values_masked"].value == len(served)
    links = {row[0] for row in warehouse_rows(duckdb_path, "download_url")}
    assert links == {"https://cdn.example/sheet?api_key=***"}
    warnings = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == logging.WARNING
    ]
    assert any(f"{len(served)} values of the vendor's data held the API key" in w for w in warnings)
    assert [row[:2] for row in warehouse_rows(duckdb_path, "id, sku")] == [
        (record["id"], record["sku"]) for record in served
    ], "nothing else of the data changes"
    _assert_no_key_anywhere(instance, tmp_path, caplog)


def test_a_short_key_changes_the_values_it_occurs_in_never_silently(
    duckdb_path: Path, tmp_path: Path, instance: DagsterInstance
) -> None:
    """Key `K`: every value with a K in it is masked (the key must not reach the
    warehouse), and each is counted; values without it load exactly as sent."""
    sim = make_simulator(api_key="K")
    try:
        resources = make_resources(sim.url, duckdb_path, tmp_path, api_key="K")
        result = materialize_partition(resources, DAY, instance)
        served = expected_records(sim, *day_window(DAY))
    finally:
        sim.stop()

    holding = [v for r in served for v in r.values() if isinstance(v, str) and "K" in v]
    assert holding, "the seed's SKUs hold a K"
    assert ingest_metadata(result)["inventory/values_masked"].value == len(holding)
    loaded = {row[0]: row[1] for row in warehouse_rows(duckdb_path, "id, sku")}
    for record in served:
        expected = record["sku"] and record["sku"].replace("K", "***")
        assert loaded[record["id"]] == expected


def test_pages_without_the_key_are_loaded_byte_for_byte(hostile, api, instance) -> None:
    result = materialize_partition(api, DAY, instance)
    assert ingest_metadata(result)["inventory/values_masked"].value == 0
