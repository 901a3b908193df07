"""The simulator misbehaves on request, so the client can be tested against a hostile vendor.

Each behaviour is checked over real HTTP for exactly what the fault suite
relies on: the shape of the wrong answer, that it is used once per scripted
time and before auth, and that normal service follows.
"""

import datetime as dt
import json
import re
import signal
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from inventory_api_sim import InventoryApiSimulator, SimulatorConfig
from inventory_assets_tests.test_simulator import KEY, LISTENING, get, page_all, run_cli

ROWS = 300
# Generated records change on whole seconds, so nothing but raw records falls in here.
RAW_WINDOW = {"updated_since": "2026-11-05T00:00:00.5Z", "updated_before": "2026-11-05T00:00:01Z"}
RAW_TIME = "2026-11-05T00:00:00.700000Z"


@pytest.fixture
def sim() -> Iterator[InventoryApiSimulator]:
    with InventoryApiSimulator(SimulatorConfig(rows=ROWS, days=10)) as simulator:
        yield simulator


@pytest.fixture
def leaky() -> Iterator[InventoryApiSimulator]:
    with InventoryApiSimulator(SimulatorConfig(rows=20, echo_url_in_errors=True)) as simulator:
        yield simulator


# -- serve_next ----------------------------------------------------------------------------------


def test_html_is_a_200_error_page_even_for_a_wrong_key(sim) -> None:
    sim.serve_next("html")
    response = get(sim, api_key="wrong")  # hostile answers come before auth
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html"
    assert response.text.startswith("<html>") and "<h1>502 Bad Gateway</h1>" in response.text
    with pytest.raises(ValueError):
        response.json()
    assert get(sim).json()["total"] == ROWS


@pytest.mark.parametrize(
    ("kind", "bend"),
    [
        ("no_data", lambda page: {k: v for k, v in page.items() if k != "data"}),
        ("data_not_list", lambda page: {**page, "data": {"unexpected": "object"}}),
        ("empty", lambda page: {**page, "data": []}),
    ],
)
def test_json_kinds_bend_only_the_data_of_the_page(sim, kind, bend) -> None:
    normal = get(sim, offset=100, limit=50).json()
    assert len(normal["data"]) == 50
    sim.serve_next(kind, times=2)
    assert [get(sim, offset=100, limit=50).json() for _ in range(3)] == [
        bend(normal),
        bend(normal),
        normal,
    ]


def test_stall_delays_a_normal_answer_past_a_client_timeout(sim, monkeypatch) -> None:
    normal = get(sim, limit=5).json()
    sim.serve_next("stall", seconds=0.6)
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{sim.url}/v1/resource", params={"api_key": KEY, "limit": 5}, timeout=0.2)
    stalls: list[float] = []
    monkeypatch.setattr(time, "sleep", stalls.append)  # the stall sleeps in the server thread
    sim.serve_next("stall", seconds=0.3)
    assert get(sim, limit=5).json() == normal, "a stall still answers normally"
    assert stalls == [0.3]
    assert sim.request_count == 3


def test_reset_sends_half_the_announced_body_then_a_tcp_reset(sim) -> None:
    sim.serve_next("reset")
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as raw:
        raw.sendall(f"GET /v1/resource?api_key={KEY} HTTP/1.1\r\nHost: sim\r\n\r\n".encode())
        received = b""
        with pytest.raises(ConnectionResetError):
            while chunk := raw.recv(65_536):
                received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    announced = re.search(rb"\r\nContent-Length: (\d+)", head)
    assert announced and len(body) == int(announced[1]) // 2 > 0
    # What a requests client sees: the read breaks mid-body.
    sim.serve_next("reset")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(sim)
    assert get(sim).status_code == 200


def test_huge_serves_records_regardless_of_limit(sim) -> None:
    everything = page_all(sim)
    sim.serve_next("huge")
    body = get(sim, limit=10).json()
    assert len(body["data"]) == 20_000 and body["total"] == ROWS and body["limit"] == 10
    assert body["data"][:ROWS] == everything and body["data"][ROWS] == everything[0]
    window = {"updated_since": "2026-11-03T00:00:00Z", "updated_before": "2026-11-04T00:00:00Z"}
    in_window = page_all(sim, **window)
    sim.serve_next("huge", records=70)
    data = get(sim, limit=10, **window).json()["data"]
    assert len(data) == 70 and {r["id"] for r in data} == {r["id"] for r in in_window}


def test_truncated_is_a_complete_200_whose_json_does_not_parse(sim) -> None:
    normal = get(sim, offset=100, limit=50).content
    sim.serve_next("truncated")
    sim.reset_stats()
    with requests.Session() as session:
        response = get(sim, session, offset=100, limit=50)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        assert int(response.headers["Content-Length"]) == len(response.content)
        assert normal.startswith(response.content)
        assert 0 <= len(normal) // 2 - len(response.content) < 4  # half, to a character
        with pytest.raises(requests.JSONDecodeError):
            response.json()
        assert get(sim, session, offset=100, limit=50).content == normal
    assert sim.connection_count == 1  # a whole answer: the connection was kept alive


def test_truncated_cuts_between_characters_so_only_the_json_breaks(sim) -> None:
    cut_mid_character = []
    for snowmen in (40, 41, 42):  # 3 bytes each: one of these halves lands inside one
        sim.clear_raw()
        sim.put_raw({"id": 1, "updated_at": RAW_TIME, "product_name": "☃" * snowmen})
        normal = get(sim, **RAW_WINDOW).content
        cut_mid_character.append(normal[len(normal) // 2] & 0xC0 == 0x80)
        sim.serve_next("truncated")
        content = get(sim, **RAW_WINDOW).content
        assert normal.startswith(content) and content.decode().endswith("☃")
        with pytest.raises(json.JSONDecodeError):
            json.loads(content)
    assert any(cut_mid_character)


def test_scripted_answers_are_used_in_the_order_scripted(sim) -> None:
    sim.fail_next(503)
    sim.serve_next("empty")
    sim.fail_next(429, retry_after=2)
    responses = [get(sim, limit=5) for _ in range(4)]
    assert [r.status_code for r in responses] == [503, 200, 429, 200]
    assert responses[1].json()["data"] == [] and len(responses[3].json()["data"]) == 5


@pytest.mark.parametrize(
    ("kind", "times", "options"),
    [
        ("teapot", 1, {}),
        ("html", 0, {}),
        ("html", 1, {"seconds": 1}),
        ("stall", 1, {"records": 5}),
        ("stall", 1, {"seconds": -1}),
        ("huge", 1, {"records": 0}),
        ("truncated", 1, {"records": 5}),
    ],
)
def test_serve_next_rejects_bad_arguments(sim, kind, times, options) -> None:
    with pytest.raises(ValueError):
        sim.serve_next(kind, times, **options)
    assert get(sim).json()["total"] == ROWS  # nothing was scripted


# -- total_delta ---------------------------------------------------------------------------------


def test_total_delta_lies_about_total_but_not_about_the_data(sim) -> None:
    normal = get(sim, offset=280).json()
    sim.set_total_delta(50)
    assert sim.total_delta == 50
    assert get(sim, offset=280).json() == {**normal, "total": ROWS + 50}
    sim.total_delta = -1000
    assert get(sim, offset=280).json() == {**normal, "total": 0}  # clamped, data unchanged
    sim.set_total_delta(0)
    assert get(sim, offset=280).json() == normal
    with pytest.raises(TypeError):
        sim.set_total_delta("5")  # type: ignore[arg-type]


# -- put_raw -------------------------------------------------------------------------------------


def test_raw_records_are_served_as_given_in_key_order(sim) -> None:
    before = sim.records
    first = {"id": 100, "updated_at": RAW_TIME, "quantity": "abc"}  # id 100 exists already
    second = {"id": 100, "updated_at": RAW_TIME, "unit_price": "n/a", "quantity": -3}
    no_id = {"updated_at": RAW_TIME, "product_name": "Ключ 扳手 ☃", "sku": None}
    odd_id = {"id": "7", "updated_at": RAW_TIME, "extra": {"nested": [1, {"x": None}]}}
    for record in (second, first, odd_id, no_id):
        sim.put_raw(record)
    # (updated_at, id) order: ids that are not integers sort as 0; ties in the order put.
    assert page_all(sim, **RAW_WINDOW) == [odd_id, no_id, second, first]
    timeless = {"id": 5, "updated_at": "yesterday", "quantity": 1}
    no_time = {"id": 4}
    sim.put_raw(timeless)
    sim.put_raw(no_time)
    # No valid updated_at: first, by id, in every window, bounded or not.
    assert page_all(sim, **RAW_WINDOW) == [no_time, timeless, odd_id, no_id, second, first]
    everything = page_all(sim, limit=3)
    assert everything[:2] == [no_time, timeless] and len(everything) == ROWS + 6
    assert page_all(sim, updated_since="2026-11-09")[:2] == [no_time, timeless]
    assert sim.state()["rows"] == ROWS + 6
    records = sim.records
    assert [r for r in records if r.get("id") == 100] == [before[99], second, first]
    assert all(raw in records for raw in (no_id, odd_id, timeless, no_time))
    sim.clear_raw()
    assert sim.records == before and len(page_all(sim)) == ROWS


def test_touches_ignore_raw_records(sim) -> None:
    raw = {"id": 100, "updated_at": RAW_TIME, "quantity": "abc"}
    only_raw = {"id": 9999, "updated_at": RAW_TIME}
    sim.put_raw(raw)
    sim.put_raw(only_raw)
    noon = dt.datetime(2026, 11, 12, 12, tzinfo=dt.UTC)
    sim.touch([100], noon, quantity=1)
    with pytest.raises(KeyError):
        sim.touch([9999], noon)
    sim.touch_random(count=ROWS)  # every record of the data set, and no raw one
    assert page_all(sim, **RAW_WINDOW) == [raw, only_raw]
    touched, still_raw = (r for r in sim.records if r.get("id") == 100)
    assert still_raw == raw and touched["quantity"] != "abc"


# -- echo_url_in_errors --------------------------------------------------------------------------


def error_bodies(sim: InventoryApiSimulator) -> dict[str, dict]:
    """Each kind of error, sent with a key in the target; their JSON bodies by target."""
    bodies = {}
    sim.fail_next(503)
    for target in (
        f"/v1/resource?api_key={KEY}&limit=5",  # the scripted 503
        "/v1/resource?limit=5&api_key=wrong%2Fkey+x",  # 401, percent-encoding as sent
        f"/v1/resource?api_key={KEY}&limit=0",  # 400
        f"/v2/other?api_key={KEY}",  # 404
    ):
        response = requests.get(sim.url + target, timeout=10)
        assert response.status_code >= 400
        bodies[target] = response.json()
    post = requests.post(f"{sim.url}/v1/resource?api_key={KEY}", timeout=10)
    bodies[f"/v1/resource?api_key={KEY}"] = post.json()
    return bodies


def test_errors_never_echo_the_request_by_default(sim) -> None:
    for target, body in error_bodies(sim).items():
        assert set(body) == {"error"}, target
        assert KEY not in body["error"] and "wrong" not in body["error"]


def test_echo_url_in_errors_quotes_the_target_exactly_as_received(leaky) -> None:
    for target, body in error_bodies(leaky).items():
        assert body["request"] == target and "error" in body
    assert "request" not in get(leaky).json()  # only errors leak
    with socket.create_connection(("127.0.0.1", leaky.port), timeout=10) as raw:
        raw.sendall(f"GET /v1/resource?api_key={KEY} junk HTTP/1.1\r\n\r\n".encode())
        reply = b"".join(iter(lambda: raw.recv(4096), b""))  # the server closes after it
    assert reply.startswith(b"HTTP/1.1 400")
    assert json.loads(reply.partition(b"\r\n\r\n")[2])["request"] == f"/v1/resource?api_key={KEY}"


def test_cli_flag_turns_the_echo_on() -> None:
    process = run_cli("--port", "0", "--rows", "5", "--echo-url-in-errors")
    try:
        match = LISTENING.match(process.stdout.readline())  # type: ignore[union-attr]
        assert match
        response = requests.get(f"{match[1]}/v1/resource?api_key=nope", timeout=10)
        assert response.status_code == 401
        assert response.json()["request"] == "/v1/resource?api_key=nope"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate()
