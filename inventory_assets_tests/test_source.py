"""The dlt source alone against the simulator: paging, window parameters, retries."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pyarrow as pa
import pytest
import requests

from inventory_api_sim import InventoryApiSimulator
from inventory_assets.sources.inventory_api import (
    ApiOptions,
    ExtractStats,
    Window,
    inventory_source,
)
from inventory_assets.sources.inventory_api.errors import explain
from inventory_assets.sources.inventory_api.http import build_session
from inventory_assets.sources.inventory_api.validation import _decoded
from inventory_assets_tests.conftest import (
    TEST_API_KEY,
    contract_endpoint,
    day_window,
    expected_records,
)

WINDOW = Window(*day_window("2026-11-03"))


def _extract(
    sim: InventoryApiSimulator, stats: ExtractStats | None = None, **options
) -> list[dict]:
    """The records the source yields; contract-shaped ones come in Arrow batches."""
    options.setdefault("backoff_factor", 0.01)
    records: list[dict] = []
    source = inventory_source(
        sim.url,
        TEST_API_KEY,
        WINDOW,
        endpoint=contract_endpoint(),
        options=ApiOptions(**options),
        stats=stats,
    )
    for item in source:
        records.extend(item.to_pylist() if isinstance(item, pa.Table) else [item])
    return records


def _failure(sim: InventoryApiSimulator, **kwargs) -> Exception:
    with pytest.raises(Exception) as caught:
        _extract(sim, **kwargs)
    return caught.value


def test_pages_through_the_window_with_offset_and_limit(simulator) -> None:
    records = _extract(simulator)

    expected = expected_records(simulator, WINDOW.start, WINDOW.end)
    assert sorted(r["id"] for r in records) == [r["id"] for r in expected]
    offsets = [int(q["offset"]) for q in simulator.requests]
    assert offsets == list(range(0, len(expected), 100))
    assert {q["limit"] for q in simulator.requests} == {"100"}
    assert {q["api_key"] for q in simulator.requests} == {"***"}, "the simulator masks what it logs"


def test_window_parameter_names_are_configurable(simulator) -> None:
    simulator.deviate(window_params=("since", "before"))  # a vendor with other names

    records = _extract(simulator, window_start_param="since", window_end_param="before")

    assert sorted(r["id"] for r in records) == [
        r["id"] for r in expected_records(simulator, WINDOW.start, WINDOW.end)
    ]

    first = simulator.requests[0]
    assert first["since"] == "2026-11-03T00:00:00Z"
    assert first["before"] == "2026-11-04T00:00:00Z"
    assert "updated_since" not in first


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The waits the retrying client asks for, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(time, "sleep", waited.append)
    return waited


def test_retry_after_is_honoured(simulator, sleeps) -> None:
    simulator.fail_next(429, times=1, retry_after=7)
    stats = ExtractStats()

    _extract(simulator, stats=stats)

    assert sleeps == [7.0], "the wait is the server's Retry-After, not the backoff"
    assert stats.retryable_failures == 1


def test_default_backoff_factor_is_two(simulator, sleeps) -> None:
    simulator.fail_next(503, times=3)

    list(inventory_source(simulator.url, TEST_API_KEY, WINDOW, endpoint=contract_endpoint()))

    # tenacity waits factor * 2**(attempt - 1): 2, 4 and 8 s before the three retries.
    assert sleeps == [2.0, 4.0, 8.0]


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_errors_fail_at_once(simulator, status: int) -> None:
    simulator.fail_next(status, times=1)

    error = _failure(simulator)

    assert simulator.request_count == 1
    explained = str(explain(error, simulator.url, 3))
    assert f"HTTP {status}" in explained
    assert TEST_API_KEY not in explained
    if status != 400:
        assert "rejected the API key" in explained


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_each_transient_status_is_retried_three_times(simulator, status: int) -> None:
    simulator.fail_next(status, times=4, retry_after=0)

    error = _failure(simulator)

    assert simulator.request_count == 4
    assert f"HTTP {status}" in str(explain(error, simulator.url, 3))


def test_a_stalled_server_times_out_after_retries(duckdb_path) -> None:
    from inventory_assets_tests.conftest import make_simulator

    slow = make_simulator(latency_ms=1500)
    try:
        error = _failure(slow, request_timeout_seconds=0.3)
        assert slow.request_count == 4
        message = str(explain(error, slow.url, 3))
    finally:
        slow.stop()
    assert "did not answer in time" in message
    assert TEST_API_KEY not in str(error)


def test_a_connection_error_names_the_url_but_not_the_key() -> None:
    options = ApiOptions(backoff_factor=0.01, request_timeout_seconds=1)
    source = inventory_source(
        "http://127.0.0.1:9", TEST_API_KEY, WINDOW, endpoint=contract_endpoint(), options=options
    )
    with pytest.raises(Exception) as caught:
        list(source)

    assert TEST_API_KEY not in str(caught.value)
    assert "Could not connect to the inventory API at http://127.0.0.1:9" in str(
        explain(caught.value, "http://127.0.0.1:9", 3)
    )


def test_window_rejects_naive_or_inverted_bounds() -> None:
    start = datetime(2026, 11, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        Window(start.replace(tzinfo=None), start)
    with pytest.raises(ValueError, match="must be after"):
        Window(start, start)


def test_proxy_settings_from_the_environment_are_read_once_and_kept(monkeypatch) -> None:
    """requests' per-request environment scan is replaced by one lookup per session."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")

    public = build_session("https://api.example/v1", TEST_API_KEY, ExtractStats(), ApiOptions())
    internal = build_session("https://internal.example", TEST_API_KEY, ExtractStats(), ApiOptions())

    assert public.proxies.get("https") == "http://proxy.example:3128"
    assert "https" not in internal.proxies, "NO_PROXY is honoured"
    assert public.trust_env is False


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": [{"id": 1, "unit_price": NaN}], "total": 1}',  # not JSON
        b'\xef\xbb\xbf{"data": [{"id": 1, "unit_price": 2}], "total": 1}',  # a UTF-8 BOM
        '{"data": [{"id": 1, "sku": "é"}], "total": 1}'.encode("latin-1"),  # not UTF-8
    ],
)
def test_a_page_the_fast_decoder_refuses_is_read_as_requests_reads_it(body: bytes) -> None:
    response = requests.Response()
    response._content = body
    response.encoding = "latin-1" if b"\xe9" in body else None

    def outcome(decode) -> object:
        try:
            return decode()
        except ValueError:
            return "not JSON"

    assert outcome(lambda: _decoded(response)) == outcome(response.json)
