"""The API simulator honours the inventory API contract over real HTTP.

The rest of the project is tested against this simulator, so its paging,
window boundaries, errors and faults must be exactly what the contract says.
"""

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import requests

from inventory_api_sim import InventoryApiSimulator, SimulatorConfig, generate_records
from inventory_api_sim.cli import main as cli_main

KEY = "sim-secret-key"
START = dt.date(2026, 11, 1)
UTC = dt.UTC
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
LISTENING = re.compile(r"^inventory-api-sim listening on (http://127\.0\.0\.1:(\d+)) \(rows=")


@pytest.fixture
def make_sim() -> Iterator[Callable[..., InventoryApiSimulator]]:
    """Start simulators on free ports with any config; all are stopped afterwards."""
    started: list[InventoryApiSimulator] = []

    def make(**overrides: object) -> InventoryApiSimulator:
        config = SimulatorConfig(**{"rows": 500, "days": 10, **overrides})  # type: ignore[arg-type]
        started.append(InventoryApiSimulator(config).start())
        return started[-1]

    yield make
    for sim in started:
        sim.stop()


def get(sim: InventoryApiSimulator, session: requests.Session | None = None, **params: object):
    params.setdefault("api_key", KEY)
    return (session or requests).get(f"{sim.url}/v1/resource", params=params, timeout=10)


def page_all(sim: InventoryApiSimulator, limit: int = 100, **window: str) -> list[dict]:
    """Page through a window as a client would, checking `total` on every page."""
    records: list[dict] = []
    total = None
    with requests.Session() as session:
        while True:
            body = get(sim, session, offset=len(records), limit=limit, **window).json()
            assert total is None or body["total"] == total
            total = body["total"]
            assert body["offset"] == len(records) and body["limit"] == limit
            records.extend(body["data"])
            if len(body["data"]) < limit:
                break
    assert len(records) == total
    return records


def test_generate_records_is_deterministic_and_follows_the_contract() -> None:
    records = generate_records(2000, 10, START, seed=7)
    assert records == generate_records(2000, 10, START, seed=7)
    assert records != generate_records(2000, 10, START, seed=8)
    assert [r["id"] for r in records] == list(range(1, 2001))
    assert len({r["inventory_id"] for r in records}) < 600  # items repeat across records
    for record in records:
        assert re.fullmatch(r"INV-\d{5,}", record["inventory_id"])
        assert 0 <= record["quantity"] <= 500
        assert TIMESTAMP.match(record["updated_at"])
        assert "2026-11-01T00:00:00Z" <= record["updated_at"] < "2026-11-11T00:00:00Z"
        if record["unit_price"] is not None:
            assert Decimal(record["unit_price"]).as_tuple().exponent == -2
        if record["sku"] is not None:
            assert re.fullmatch(r"SKU-\d{4}-[A-Z]{2}", record["sku"])
    for name in ("product_name", "sku", "unit_price", "warehouse"):
        assert 0 < sum(r[name] is None for r in records) < 100  # about 2%
    names = {r["product_name"] for r in records if r["product_name"]}
    assert any(not name.isascii() for name in names)
    assert any(r["quantity"] <= 10 for r in records)


def test_paging_covers_a_window_exactly_in_order(make_sim) -> None:
    sim = make_sim()
    window = {"updated_since": "2026-11-03T00:00:00Z", "updated_before": "2026-11-07T12:00:00Z"}
    expected = sorted(
        (r for r in sim.records if "2026-11-03T00" <= r["updated_at"] < "2026-11-07T12"),
        key=lambda r: (r["updated_at"], r["id"]),
    )
    for limit in (100, 37):
        records = page_all(sim, limit=limit, **window)
        assert records == expected
        assert len({r["id"] for r in records}) == len(records) > 100


def test_window_bounds_are_inclusive_then_exclusive(make_sim) -> None:
    sim = make_sim()
    sim.touch([1], dt.datetime(2026, 11, 4, tzinfo=UTC))
    sim.touch([2], dt.datetime(2026, 11, 5, tzinfo=UTC))
    day_four = {
        r["id"] for r in page_all(sim, updated_since="2026-11-04", updated_before="2026-11-05")
    }
    assert 1 in day_four and 2 not in day_four
    day_five = page_all(sim, updated_since="2026-11-05T00:00:00+00:00")
    assert day_five[0]["id"] == 2 and day_five[0]["updated_at"] == "2026-11-05T00:00:00Z"
    assert 1 not in {r["id"] for r in page_all(sim, updated_since="2026-11-04T00:00:00.000001Z")}


def test_empty_window_is_not_an_error(make_sim) -> None:
    sim = make_sim()
    for window in (
        {"updated_since": "2026-11-03T00:00:00Z", "updated_before": "2026-11-03T00:00:00Z"},
        {"updated_since": "2027-01-01T00:00:00Z"},
    ):
        response = get(sim, **window)
        assert response.status_code == 200
        assert response.json() == {"data": [], "total": 0, "offset": 0, "limit": 100}


@pytest.mark.parametrize("key", [None, "", "wrong-key-123"])
def test_a_missing_or_wrong_key_gets_401_without_echo(make_sim, key) -> None:
    sim = make_sim()
    params = {} if key is None else {"api_key": key}
    response = requests.get(f"{sim.url}/v1/resource", params=params, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid or missing api key"}
    assert KEY not in response.text and (not key or key not in response.text)


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"offset": -1}, {"updated_since": "soon"}],
)
def test_bad_parameters_get_400_with_a_message(make_sim, params) -> None:
    sim = make_sim()
    response = get(sim, **params)
    assert response.status_code == 400
    message = response.json()["error"]
    assert next(iter(params)) in message and KEY not in message


def test_unknown_path_and_method(make_sim) -> None:
    sim = make_sim()
    response = requests.get(f"{sim.url}/v2/other?api_key={KEY}", timeout=10)
    assert response.status_code == 404 and "error" in response.json()
    assert requests.post(f"{sim.url}/v1/resource", timeout=10).status_code == 405


def test_scripted_faults_come_first_then_normal_service(make_sim) -> None:
    sim = make_sim()
    sim.fail_next(503, times=2)
    statuses = [get(sim).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    sim.fail_next(500)
    assert get(sim, api_key="wrong").status_code == 500  # the gateway fails before auth
    assert sim.request_count == 4
    assert all(request["api_key"] == "***" for request in sim.requests)
    sim.reset_stats()
    assert sim.request_count == 0 and sim.requests == []


def test_429_carries_retry_after(make_sim) -> None:
    sim = make_sim()
    sim.fail_next(429, retry_after=7)
    response = get(sim)
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


def test_random_faults_are_deterministic_and_well_formed(make_sim) -> None:
    def statuses(sim: InventoryApiSimulator) -> list[int]:
        responses = [get(sim) for _ in range(30)]
        for response in responses:
            if response.status_code == 429:
                assert response.headers["Retry-After"] == "3"
        return [response.status_code for response in responses]

    config = {"fault_rate": 0.5, "retry_after_seconds": 3, "rows": 50}
    first = statuses(make_sim(**config))
    assert first == statuses(make_sim(**config))
    assert set(first) <= {200, 429, 500, 502, 503, 504} and 200 in first and len(set(first)) > 2


def test_touch_moves_a_record_and_changes_fields(make_sim) -> None:
    sim = make_sim()
    window = {"updated_since": "2026-11-20T00:00:00Z", "updated_before": "2026-11-21T00:00:00Z"}
    assert get(sim, **window).json()["total"] == 0
    sim.touch([5, 9], dt.datetime(2026, 11, 20, 8, 30, tzinfo=UTC), quantity=3, warehouse="WH-X")
    records = page_all(sim, **window)
    assert [r["id"] for r in records] == [5, 9]
    assert all(r["quantity"] == 3 and r["warehouse"] == "WH-X" for r in records)
    assert records[0]["updated_at"] == "2026-11-20T08:30:00Z"
    all_ids = [r["id"] for r in page_all(sim)]
    assert sorted(all_ids) == list(range(1, 501)) and all_ids[-2:] == [5, 9]
    assert sim.records[4]["quantity"] == 3
    with pytest.raises(KeyError):
        sim.touch([9999], dt.datetime(2026, 11, 20, tzinfo=UTC))


def test_add_field_reaches_every_record(make_sim) -> None:
    sim = make_sim(rows=50)
    sim.add_field("vendor_note", "ß")
    assert all(r["vendor_note"] == "ß" for r in get(sim, limit=100).json()["data"])
    assert all(r["vendor_note"] == "ß" for r in sim.records)


def test_one_session_keeps_one_connection(make_sim) -> None:
    sim = make_sim()
    assert len(page_all(sim, limit=20)) == 500
    assert sim.request_count == 26
    assert sim.connection_count == 1


def test_latency_is_added_and_concurrent_requests_overlap(make_sim, monkeypatch) -> None:
    """Each request waits `latency_ms`, and requests wait side by side, not in turn:
    every waiting request meets the others at a barrier, which a server answering
    one request at a time could never pass."""
    sim = make_sim(latency_ms=150, rows=50)
    waits: list[float] = []
    meeting = threading.Barrier(6, timeout=10)

    def wait(seconds: float) -> None:
        waits.append(seconds)
        meeting.wait()

    monkeypatch.setattr(time, "sleep", wait)  # the latency sleeps in the request threads
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(get(sim).status_code)) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 6, "a broken barrier would have failed a request"
    assert waits == [0.15] * 6


def test_the_key_never_reaches_stdout_or_stderr(make_sim, capfd) -> None:
    sim = make_sim(rows=20)
    get(sim)
    get(sim, api_key="another-secret")
    get(sim, limit=0)
    requests.get(f"{sim.url}/nowhere?api_key={KEY}", timeout=10)
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as raw:
        # A malformed request line: the default error page would quote it, key and all.
        raw.sendall(f"GET /v1/resource?api_key={KEY} junk HTTP/1.1\r\n\r\n".encode())
        reply = raw.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400") and KEY.encode() not in reply
    assert "api_key" not in repr(sim.config)
    captured = capfd.readouterr()
    assert KEY not in captured.out + captured.err
    assert "another-secret" not in captured.out + captured.err


def run_cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "INVENTORY_API_KEY": "cli-key"}
    command = [sys.executable, "-m", "inventory_api_sim", *args]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def test_cli_serves_until_sigterm() -> None:
    process = run_cli("--port", "0", "--rows", "30")
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        match = LISTENING.match(line)
        assert match, line
        assert "cli-key" not in line
        response = requests.get(f"{match[1]}/v1/resource?api_key=cli-key&limit=5", timeout=10)
        assert response.status_code == 200 and response.json()["total"] == 30
        # The control endpoint is how another process changes the running simulator.
        touch = requests.post(f"{match[1]}/_control/touch?count=2&day=2026-12-24", timeout=10)
        assert [c["updated_at"][:10] for c in touch.json()["touched"]] == ["2026-12-24"] * 2
        window = f"{match[1]}/v1/resource?api_key=cli-key&updated_since=2026-12-24"
        assert requests.get(window, timeout=10).json()["total"] == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert "cli-key" not in process.stderr.read()  # type: ignore[union-attr]
    finally:
        process.kill()
        process.communicate()


def test_cli_data_can_reach_today() -> None:
    """`--through today`: the newest record is today's (UTC), whatever day the test runs."""
    process = run_cli(
        "--port", "0", "--rows", "3000", "--start", "2026-11-01", "--through", "today"
    )
    try:
        match = LISTENING.match(process.stdout.readline())  # type: ignore[union-attr]
        assert match
        state = requests.get(f"{match[1]}/_control/state", timeout=10).json()
        today = dt.datetime.now(dt.UTC).date().isoformat()
        assert state["newest_updated_at"].startswith(today)
    finally:
        process.kill()
        process.communicate()


def test_cli_reports_a_port_in_use(make_sim) -> None:
    sim = make_sim(rows=1)
    process = run_cli("--port", str(sim.port), "--rows", "1")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1, err
    assert f"port {sim.port} is already in use on 127.0.0.1; pass --port 0 for a free one" in err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--fault-rate", "1.5"],
        ["--port", "70000"],
        ["--start", "Nov 1"],
        ["--rows", "x"],
        ["--through", "2026-10-01"],
    ],
)
def test_cli_rejects_bad_arguments(args, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(args)
    assert exit_info.value.code == 2
    assert args[0] in capsys.readouterr().err


# -- control endpoints ---------------------------------------------------------------------------


def control(
    sim: InventoryApiSimulator,
    path: str,
    method: str = "POST",
    session: requests.Session | None = None,
    **params: object,
) -> requests.Response:
    """Call /_control/<path> as another process would: real HTTP, no api key."""
    return (session or requests).request(
        method, f"{sim.url}/_control/{path}", params=params, timeout=10
    )


def touched(sim: InventoryApiSimulator, **params: object) -> list[dict]:
    response = control(sim, "touch", **params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["touched"]


def test_touch_endpoint_moves_records_to_a_day_or_an_instant(make_sim) -> None:
    sim = make_sim()
    before = {r["id"]: r for r in sim.records}
    changes = touched(sim, count=5, day="2026-11-20")
    assert len({c["id"] for c in changes}) == 5
    for change in changes:
        assert TIMESTAMP.match(change["updated_at"])
        assert change["updated_at"].startswith("2026-11-20T")
        assert 0 <= change["quantity"] <= 500
        assert change["quantity"] != before[change["id"]]["quantity"]
    after = {r["id"]: r for r in sim.records}
    for change in changes:
        expected = {**before[change["id"]], **change}
        assert after[change["id"]] == expected  # only updated_at and quantity changed
    assert sum(after[i] != before[i] for i in before) == 5
    # An offset is converted to UTC; a given quantity is used as is.
    changes = touched(sim, count=3, at="2026-11-21T08:30:00+02:00", quantity=7)
    assert [(c["updated_at"], c["quantity"]) for c in changes] == [("2026-11-21T06:30:00Z", 7)] * 3


def test_default_touches_follow_the_vendor_clock(make_sim) -> None:
    sim = make_sim()
    newest = max(r["updated_at"] for r in sim.records)
    assert control(sim, "state", "GET").json() == {"rows": 500, "newest_updated_at": newest}
    first = touched(sim)  # count defaults to 1
    second = touched(sim, count=2)
    one_second = dt.timedelta(seconds=1)
    moment = dt.datetime.fromisoformat(newest.replace("Z", "+00:00")) + one_second
    assert [c["updated_at"] for c in first] == [moment.strftime("%Y-%m-%dT%H:%M:%SZ")]
    moment += one_second
    assert [c["updated_at"] for c in second] == [moment.strftime("%Y-%m-%dT%H:%M:%SZ")] * 2
    state = control(sim, "state", "GET").json()
    assert state == {"rows": 500, "newest_updated_at": second[0]["updated_at"]}


def test_touches_are_visible_through_the_api_on_one_kept_alive_connection(make_sim) -> None:
    sim = make_sim()
    with requests.Session() as session:
        # A body is allowed and ignored; it must not break the next request on the connection.
        response = session.post(f"{sim.url}/_control/touch?count=4", data=b"x" * 5000, timeout=10)
        changes = response.json()["touched"]
        since = changes[0]["updated_at"]
        body = get(sim, session, updated_since=since).json()
        response = session.post(f"{sim.url}/_control/touch", timeout=10)  # empty body
        assert response.status_code == 200
    assert body["total"] == 4
    assert [(r["id"], r["quantity"]) for r in body["data"]] == [
        (c["id"], c["quantity"]) for c in changes
    ]
    assert sim.connection_count == 1
    assert sim.request_count == 1  # control calls are not API requests
    assert sim.requests == [
        {"api_key": "***", "updated_since": since, "_path": "/v1/resource", "_auth": "query"}
    ]


BAD_TOUCHES = [
    ({"count": 0}, "count"),
    ({"count": 10_001}, "count"),
    ({"count": "five"}, "count"),
    ({"count": 501}, "count"),  # more than the 500 records
    ({"day": "2026-13-01"}, "day"),
    ({"day": "20261101"}, "day"),
    ({"at": "soon"}, "at"),
    ({"quantity": -1}, "quantity"),
    ({"cnt": 5}, "accepts: at, count, day, quantity"),
]


def test_bad_touch_parameters_get_400_and_change_nothing(make_sim) -> None:
    # One simulator for all cases: each start/stop costs a shutdown poll.
    sim = make_sim()
    before = sim.records
    with requests.Session() as session:
        for query, named in BAD_TOUCHES:
            response = control(sim, "touch", session=session, **query)
            assert response.status_code == 400, query
            assert named in response.json()["error"], query
    assert sim.records == before


def test_touch_random_rejects_bad_arguments_in_process(make_sim) -> None:
    sim = make_sim()
    before = sim.records
    for kwargs, named in (
        ({"count": 0}, "count"),
        ({"count": 501}, "count"),
        ({"day": "2026-11-31"}, "day"),
        ({"at": "2026-11-20 noon"}, "at"),
        ({"quantity": -5}, "quantity"),
    ):
        with pytest.raises(ValueError, match=named):
            sim.touch_random(**kwargs)  # type: ignore[arg-type]
    assert sim.records == before


def test_control_routes_methods_and_the_read_only_api(make_sim) -> None:
    sim = make_sim(rows=10)
    assert control(sim, "nowhere").status_code == 404
    assert control(sim, "", "GET").status_code == 404
    response = control(sim, "touch", "GET")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert control(sim, "state", "POST").headers["Allow"] == "GET"
    assert control(sim, "state", "GET", api_key=KEY).status_code == 200  # a key is tolerated
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = requests.request(method, f"{sim.url}/v1/resource", timeout=10)
        assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert sim.request_count == 0


def test_control_answers_loopback_clients_only(make_sim) -> None:
    sim = make_sim(rows=10)
    before = sim.records
    for host in ("192.0.2.7", "10.0.0.1", "::2", "localhost", ""):
        response = sim.control("POST", "/_control/touch?count=1", host)
        assert response.status == 403, host
        assert "loopback" in json.loads(response.body)["error"]
        assert sim.control("GET", "/_control/nowhere", host).status == 403
    assert sim.records == before
    for host in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"):
        assert sim.control("GET", "/_control/state", host).status == 200, host


def test_touch_sequences_are_deterministic_over_http_and_in_process(make_sim) -> None:
    def sequence(touch: Callable[..., list[dict]]) -> list[list[dict]]:
        return [touch(count=3), touch(count=4, day="2026-11-02"), touch(quantity=0), touch()]

    sim = make_sim()
    over_http = sequence(lambda **params: touched(sim, **params))
    in_process = sequence(make_sim().touch_random)
    assert over_http == in_process
    assert over_http[0] != sequence(make_sim(seed=7).touch_random)[0]
    assert make_sim(rows=0).state() == {"rows": 0, "newest_updated_at": None}


def test_control_endpoints_add_and_retype_fields(make_sim) -> None:
    """What the drift tests and the demo use from another process."""
    sim = make_sim()
    added = requests.post(f"{sim.url}/_control/add_field?name=color&value=%22red%22", timeout=10)
    retyped = requests.post(f"{sim.url}/_control/retype?field=quantity&to=text", timeout=10)
    missing = requests.post(f"{sim.url}/_control/retype?field=quantity", timeout=10)

    assert added.json() == {"added": "color"}
    assert retyped.json() == {"retyped": "quantity", "to": "text"}
    assert missing.status_code == 400 and "to is required" in missing.text
    assert all(r["color"] == "red" and isinstance(r["quantity"], str) for r in sim.records)


def test_a_short_page_keeps_its_true_total(make_sim) -> None:
    sim = make_sim()
    sim.serve_next("short")
    page = requests.get(f"{sim.url}/v1/resource", params={"limit": 100}, timeout=10).json()

    assert len(page["data"]) == 50
    assert page["total"] == len(sim.records)
