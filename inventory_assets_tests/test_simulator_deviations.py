"""The simulator's second endpoint and its switches for vendors that depart from the contract.

/v1/warehouses must page, authenticate and filter as /v1/resource does, and
list exactly the warehouses the inventory records name. Each deviation is
proved over real HTTP as a config field, as a switch flipped on a running
simulator (in process and through POST /_control/deviate) and as a CLI flag;
deleted records must vanish everywhere the data set shows.
"""

import datetime as dt
import re
import signal
import threading
from collections import Counter
from collections.abc import Callable

import pytest
import requests

from inventory_api_sim import (
    InventoryApiSimulator,
    SimulatorConfig,
    generate_records,
    generate_warehouses,
)
from inventory_api_sim.cli import main as cli_main
from inventory_api_sim.deviations import RATE_LIMIT, Deviations
from inventory_assets_tests.conftest import (
    SIM_DAYS,
    SIM_START,
    SMALL_SIM_ROWS,
    TEST_API_KEY,
)
from inventory_assets_tests.test_simulator import LISTENING, TIMESTAMP, control, run_cli

ROWS = SMALL_SIM_ROWS
RESOURCE = "/v1/resource"
WAREHOUSES = "/v1/warehouses"
DAY = {"updated_since": "2026-11-02T00:00:00Z", "updated_before": "2026-11-03T00:00:00Z"}
VENDOR_NAMES = ("modified_after", "modified_before")
VENDOR_DAY = {"modified_after": DAY["updated_since"], "modified_before": DAY["updated_before"]}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining")
NUMERIC_TEXT = re.compile(r"^\d+$")
# Two days of 1000 records: a window of a few hundred, paged in several pages.
BUSY_WINDOW = {"updated_since": "2026-11-02T00:00:00Z", "updated_before": "2026-11-04T00:00:00Z"}
MOVED_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")


@pytest.fixture
def sim(make_sim: Callable[..., InventoryApiSimulator]) -> InventoryApiSimulator:
    return make_sim()


def get(
    sim: InventoryApiSimulator,
    path: str = RESOURCE,
    session: requests.Session | None = None,
    **params: object,
) -> requests.Response:
    params.setdefault("api_key", TEST_API_KEY)
    return (session or requests).get(f"{sim.url}{path}", params=params, timeout=10)


def body(sim: InventoryApiSimulator, path: str = RESOURCE, **params: object) -> dict:
    response = get(sim, path, **params)
    assert response.status_code == 200, response.text
    return response.json()


def page_through(sim: InventoryApiSimulator, path: str = RESOURCE, **params: object) -> list[dict]:
    """Every record a window serves, offset by what each page held (not by limit or total)."""
    records: list[dict] = []
    with requests.Session() as session:
        while data := get(sim, path, session, offset=len(records), **params).json()["data"]:
            records.extend(data)
    return records


def served_order(records: list[dict], key: str = "id") -> list[dict]:
    return sorted(records, key=lambda record: (record["updated_at"], record[key]))


def of_day(records: list[dict], day: str = "2026-11-02") -> list[dict]:
    return served_order([r for r in records if r["updated_at"].startswith(day)])


def ids(records: list[dict]) -> list[int]:
    return [record["id"] for record in records]


# -- /v1/warehouses ------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [0, 3, 40, ROWS])
def test_warehouses_are_one_per_warehouse_code_of_the_records(make_sim, rows) -> None:
    sim = make_sim(rows=rows)
    codes = {record["warehouse"] for record in sim.records} - {None}
    listed = page_through(sim, WAREHOUSES)

    assert sorted(w["code"] for w in listed) == sorted(codes)
    assert listed == served_order(sim.warehouses, "code")
    for warehouse in listed:
        assert set(warehouse) == {"code", "name", "city", "capacity", "updated_at"}
        assert warehouse["code"].startswith("WH-") and warehouse["name"]
        assert warehouse["city"] is None or isinstance(warehouse["city"], str)
        assert type(warehouse["capacity"]) is int and warehouse["capacity"] > 0
        assert TIMESTAMP.match(warehouse["updated_at"])
        assert "2026-11-01" <= warehouse["updated_at"] < "2026-11-06"


def test_warehouses_are_deterministic_from_the_seed() -> None:
    records = generate_records(ROWS, SIM_DAYS, SIM_START, seed=7)
    first = generate_warehouses(records, SIM_DAYS, SIM_START, seed=7)

    assert first == generate_warehouses(records, SIM_DAYS, SIM_START, seed=7)
    assert first != generate_warehouses(records, SIM_DAYS, SIM_START, seed=8)
    assert [w["code"] for w in first] == sorted({r["warehouse"] for r in records} - {None})


def test_warehouses_page_in_updated_at_code_order_with_a_true_total(sim) -> None:
    everything = served_order(sim.warehouses, "code")
    pages = [body(sim, WAREHOUSES, offset=offset, limit=2) for offset in (0, 2, 4, 6)]

    assert len(everything) == 5
    assert [page["data"] for page in pages] == [everything[:2], everything[2:4], everything[4:], []]
    assert [(page["total"], page["offset"], page["limit"]) for page in pages] == [
        (5, 0, 2),
        (5, 2, 2),
        (5, 4, 2),
        (5, 6, 2),
    ]
    for params, named in (({"limit": 101}, "limit"), ({"offset": -1}, "offset")):
        response = get(sim, WAREHOUSES, **params)
        assert response.status_code == 400 and named in response.json()["error"]
    assert get(sim, WAREHOUSES, updated_since="soon").status_code == 400


@pytest.mark.parametrize("key", [None, "", "wrong-key-123"])
def test_warehouses_need_the_key(sim, key) -> None:
    params = {} if key is None else {"api_key": key}
    response = requests.get(f"{sim.url}{WAREHOUSES}", params=params, timeout=10)

    assert response.status_code == 401
    assert response.json() == {"error": "invalid or missing api key"}
    assert TEST_API_KEY not in response.text


def test_touch_warehouse_moves_it_into_a_window(sim) -> None:
    before = sim.warehouses[0]
    noon = dt.datetime(2026, 11, 20, 12, 30)  # naive is UTC
    sim.touch_warehouse(before["code"], noon, capacity=42, city=None)
    changed = {**before, "capacity": 42, "city": None, "updated_at": "2026-11-20T12:30:00Z"}

    window = {"updated_since": "2026-11-20T12:30:00Z", "updated_before": "2026-11-21"}
    assert body(sim, WAREHOUSES, **window) == {
        "data": [changed],
        "total": 1,
        "offset": 0,
        "limit": 100,
    }
    assert body(sim, WAREHOUSES, updated_before="2026-11-20T12:30:00Z")["total"] == 4  # exclusive
    assert page_through(sim, WAREHOUSES)[-1] == changed
    assert sim.warehouses[0] == changed
    sim.warehouses[0]["capacity"] = 1  # a copy
    assert sim.warehouses[0]["capacity"] == 42
    with pytest.raises(KeyError):
        sim.touch_warehouse("WH-NOPE", noon)
    with pytest.raises(ValueError, match="code"):
        sim.touch_warehouse(before["code"], noon, code="WH-NEW")


def test_warehouse_requests_are_counted_and_logged_with_their_path(sim) -> None:
    get(sim, WAREHOUSES, limit=3)
    get(sim, RESOURCE, limit=3)
    get(sim, WAREHOUSES, api_key="wrong")

    assert sim.request_count == 3
    assert sim.requests == [
        {"api_key": "***", "limit": "3", "_path": WAREHOUSES, "_auth": "query"},
        {"api_key": "***", "limit": "3", "_path": RESOURCE, "_auth": "query"},
        {"api_key": "***", "_path": WAREHOUSES, "_auth": "query"},
    ]
    sim.fail_next(503)  # the gateway fronts both endpoints
    assert get(sim, WAREHOUSES).status_code == 503
    sim.total_delta = 10  # a lie about the inventory total only
    assert body(sim, WAREHOUSES)["total"] == 5 and body(sim)["total"] == ROWS + 10


# -- each switch: config, in process, over HTTP -------------------------------------------------

SWITCHES = [
    ("ignore_window", True, "true"),
    ("window_params", VENDOR_NAMES, ",".join(VENDOR_NAMES)),
    ("omit_total", True, "1"),
    ("total_ignores_window", True, "on"),
    ("page_cap", 50, "50"),
    ("null_when_empty", True, "true"),
    ("numbers_as_strings", True, "TRUE"),
    ("integers_as_floats", True, "on"),
    ("rate_limit_headers", True, "yes"),
    ("moves_while_paging", 5, "5"),
]


def answers(sim: InventoryApiSimulator) -> list[tuple[int, bytes, dict]]:
    """What a fixed set of requests to both endpoints gets back: status, body, rate headers.

    Bodies as bytes: 100.0 == 100 in Python, so parsed JSON would hide a float.
    """
    sim.reset_stats()
    probes = [
        (RESOURCE, DAY),
        (RESOURCE, VENDOR_DAY),
        (RESOURCE, {"offset": 250}),
        (RESOURCE, {"offset": ROWS}),  # no records left
        (RESOURCE, {**DAY, "offset": 50}),  # a later page of a window
        (WAREHOUSES, {"updated_since": "2026-11-03T00:00:00Z"}),
    ]
    responses = [get(sim, path, **params) for path, params in probes]
    return [
        (r.status_code, r.content, {h: r.headers.get(h) for h in RATE_HEADERS}) for r in responses
    ]


@pytest.mark.parametrize(("name", "value", "text"), SWITCHES)
def test_a_switch_flipped_at_run_time_acts_as_in_the_config(make_sim, name, value, text) -> None:
    configured, in_process, over_http = make_sim(**{name: value}), make_sim(), make_sim()
    contract = answers(in_process)

    assert in_process.deviate(**{name: value}) == configured.deviations
    response = control(over_http, "deviate", name=name, value=text)
    assert response.status_code == 200, response.text
    assert response.json() == {"deviations": configured.deviations.as_json()}
    assert over_http.deviations == configured.deviations != Deviations()
    expected = answers(configured)
    assert expected != contract
    assert answers(in_process) == expected
    assert answers(over_http) == expected


def test_ignore_window_serves_and_counts_every_record(make_sim) -> None:
    sim = make_sim(ignore_window=True)

    assert body(sim, **DAY)["total"] == ROWS
    assert page_through(sim, **DAY) == served_order(sim.records)
    assert get(sim, updated_since="soon").status_code == 200  # a parameter it never reads
    assert body(sim, WAREHOUSES, updated_since="2027-01-01")["total"] == 5


def test_window_params_are_the_only_window_names_honoured(make_sim) -> None:
    sim = make_sim(window_params=VENDOR_NAMES)

    assert page_through(sim, **VENDOR_DAY) == of_day(sim.records)
    assert body(sim, **VENDOR_DAY)["total"] == len(of_day(sim.records))
    assert body(sim, **DAY)["total"] == ROWS  # the contract's names are silently ignored
    assert get(sim, updated_since="soon").status_code == 200
    response = get(sim, modified_after="soon")
    assert response.status_code == 400 and "modified_after" in response.json()["error"]
    assert body(sim, WAREHOUSES, modified_after="2027-01-01")["total"] == 0
    assert body(sim, WAREHOUSES, updated_since="2027-01-01")["total"] == 5


def test_omit_total_leaves_total_out_of_every_page(make_sim) -> None:
    sim = make_sim(omit_total=True)

    page = body(sim, limit=10, offset=20)
    assert set(page) == {"data", "offset", "limit"} and len(page["data"]) == 10
    assert "total" not in body(sim, WAREHOUSES)
    assert page_through(sim, limit=70) == served_order(sim.records)
    sim.serve_next("empty")  # hostile answers are built from the same page
    assert body(sim) == {"data": [], "offset": 0, "limit": 100}


def test_total_ignores_window_counts_everything_but_serves_the_window(make_sim) -> None:
    sim = make_sim(total_ignores_window=True)
    day = of_day(sim.records)

    page = body(sim, **DAY)
    assert page["data"] == day[:100] and page["total"] == ROWS != len(day)
    assert page_through(sim, **DAY) == day
    assert body(sim, updated_since="2027-01-01") == {
        "data": [],
        "total": ROWS,
        "offset": 0,
        "limit": 100,
    }
    assert body(sim, WAREHOUSES, updated_since="2027-01-01")["total"] == 5
    sim.total_delta = 7
    assert body(sim, **DAY)["total"] == ROWS + 7


def test_page_cap_serves_fewer_than_limit_with_a_true_total(make_sim) -> None:
    sim = make_sim(page_cap=50)

    page = body(sim, limit=100)
    assert len(page["data"]) == 50 and page["limit"] == 100 and page["total"] == ROWS
    assert len(body(sim, limit=20)["data"]) == 20  # a smaller limit is honoured
    assert page_through(sim, limit=100) == served_order(sim.records)
    sim.serve_next("short")  # half of what the vendor would have sent
    assert len(body(sim)["data"]) == 25
    sim.deviate(page_cap=2)
    assert len(body(sim, WAREHOUSES)["data"]) == 2


def test_null_when_empty_sends_null_for_a_page_without_records(make_sim) -> None:
    sim, contract = make_sim(null_when_empty=True), make_sim()

    response = get(sim, updated_since="2027-01-01")
    assert response.content == b'{"data":null,"total":0,"offset":0,"limit":100}'
    assert body(sim, offset=ROWS) == {"data": None, "total": ROWS, "offset": ROWS, "limit": 100}
    assert body(sim, WAREHOUSES, updated_since="2027-01-01")["data"] is None
    for params in ({}, {"offset": 250}, DAY):  # pages with records are the contract's
        assert get(sim, **params).content == get(contract, **params).content
    assert page_through(sim) == served_order(sim.records)
    sim.serve_next("short")  # a hostile page built from one record keeps none: null
    assert body(sim, offset=ROWS - 1)["data"] is None
    sim.deviate(omit_total=True)
    assert body(sim, offset=ROWS) == {"data": None, "offset": ROWS, "limit": 100}


def test_numbers_as_strings_sends_numeric_text_and_keeps_the_stored_types(make_sim) -> None:
    sim = make_sim(numbers_as_strings=True)
    raw = {"id": 9_999, "updated_at": "2026-11-20T00:00:00Z", "quantity": "abc", "extra": True}
    sim.put_raw(raw)

    served = page_through(sim)
    stored = served_order(sim.records)
    assert served[:-1] == [
        {**r, "id": str(r["id"]), "quantity": str(r["quantity"])} for r in stored[:-1]
    ]
    assert all(NUMERIC_TEXT.match(f"{r['id']}{r['quantity']}") for r in served[:-1])
    assert served[-1] == {**raw, "id": "9999"}  # text and booleans stay as they are
    assert all(type(r["id"]) is int for r in sim.records)
    warehouses = page_through(sim, WAREHOUSES)
    expected = [{**w, "capacity": str(w["capacity"])} for w in served_order(sim.warehouses, "code")]
    assert warehouses == expected


def test_integers_as_floats_sends_integral_floats_and_keeps_the_stored_types(make_sim) -> None:
    sim = make_sim(integers_as_floats=True)
    raw = {"id": 9_999, "updated_at": "2026-11-20T00:00:00Z", "quantity": "abc", "extra": True}
    beyond_floats = {"id": 10**400, "updated_at": "2026-11-21T00:00:00Z"}  # no float holds it
    sim.put_raw(raw)
    sim.put_raw(beyond_floats)

    stored = served_order(sim.records)
    content = get(sim, limit=3).content
    for record in stored[:3]:  # the bytes themselves, as a serializer writes them
        assert b'"id":%d.0,' % record["id"] in content
        assert b'"quantity":%d.0,' % record["quantity"] in content
    served = page_through(sim)
    assert served[:-2] == stored[:-2]  # 3212.0 == 3212 in Python ...
    assert all(
        type(r["id"]) is type(r["quantity"]) is float for r in served[:-2]
    )  # ... not in JSON
    assert served[-2:] == [{**raw, "id": 9999.0}, beyond_floats]
    assert type(served[-2]["id"]) is float and served[-2]["extra"] is True
    assert type(served[-1]["id"]) is int
    assert all(type(r["id"]) is int for r in sim.records)
    warehouses = get(sim, WAREHOUSES).content
    assert all(b'"capacity":%d.0,' % w["capacity"] in warehouses for w in sim.warehouses)


def test_numbers_as_strings_and_integers_as_floats_are_refused_together(make_sim) -> None:
    with pytest.raises(ValueError, match="cannot both be on"):
        SimulatorConfig(numbers_as_strings=True, integers_as_floats=True)
    sim = make_sim(numbers_as_strings=True)
    with pytest.raises(ValueError, match="cannot both be on"):
        sim.deviate(integers_as_floats=True)
    assert sim.deviations == Deviations(numbers_as_strings=True)
    response = control(sim, "deviate", name="integers_as_floats", value="true")
    assert response.status_code == 400 and "cannot both be on" in response.json()["error"]
    assert sim.deviate(numbers_as_strings=False, integers_as_floats=True).integers_as_floats
    assert type(body(sim)["data"][0]["id"]) is float


def test_rate_limit_headers_count_down_on_every_api_answer(make_sim) -> None:
    assert not set(RATE_HEADERS) & set(get(make_sim(rows=10)).headers)
    sim = make_sim(rate_limit_headers=True)
    sim.fail_next(503)

    responses = [
        get(sim),
        get(sim),
        get(sim, api_key="wrong"),
        get(sim, limit=0),
        get(sim, WAREHOUSES),
    ]
    assert [r.status_code for r in responses] == [503, 200, 401, 400, 200]
    assert {r.headers["X-RateLimit-Limit"] for r in responses} == {str(RATE_LIMIT)}
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in responses]
    assert remaining == [RATE_LIMIT - n for n in range(1, 6)]
    assert "X-RateLimit-Limit" not in control(sim, "state", "GET").headers  # not the vendor's


def test_switches_change_a_running_simulator_between_requests(sim) -> None:
    contract = body(sim)
    assert sim.deviations == Deviations() == Deviations.from_config(SimulatorConfig())

    assert sim.deviate(page_cap=10, omit_total=True) == Deviations(page_cap=10, omit_total=True)
    page = body(sim)
    assert len(page["data"]) == 10 and "total" not in page
    sim.deviate(page_cap=None, omit_total=False)
    assert body(sim) == contract
    for bad in (
        {"page_cap": 0},
        {"page_cap": True},
        {"omit_total": "yes"},
        {"window_params": ("since", "since")},
        {"window_params": ("offset", "before")},
        {"window_params": "ab"},
        {"null_when_empty": 1},
        {"moves_while_paging": -1},
        {"moves_while_paging": 1.5},
        {"moves_while_paging": True},
        {"colour": True},
        {"ignore_window": True, "page_cap": -1},  # one bad value: nothing changes
    ):
        with pytest.raises(ValueError):
            sim.deviate(**bad)
    assert sim.deviations == Deviations()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"page_cap": 0}, "page_cap"),
        ({"window_params": ("since",)}, "window_params"),
        ({"window_params": ("limit", "before")}, "window_params"),
        ({"numbers_as_strings": 1}, "numbers_as_strings"),
        ({"integers_as_floats": "yes"}, "integers_as_floats"),
        ({"moves_while_paging": -1}, "moves_while_paging"),
        ({"moves_while_paging": "3"}, "moves_while_paging"),
    ],
)
def test_config_rejects_bad_switches(overrides, named) -> None:
    with pytest.raises(ValueError, match=named):
        SimulatorConfig(**overrides)


def test_deviate_endpoint_parses_values_and_rejects_bad_ones(sim) -> None:
    def deviate(**params: object) -> requests.Response:
        return control(sim, "deviate", **params)

    assert deviate(name="page_cap", value="50").json()["deviations"]["page_cap"] == 50
    assert deviate(name="page_cap", value="none").json()["deviations"]["page_cap"] is None
    assert deviate(name="omit_total", value="0").json()["deviations"]["omit_total"] is False
    for moves in (3, 0):
        switched = deviate(name="moves_while_paging", value=str(moves)).json()["deviations"]
        assert switched["moves_while_paging"] == moves
    switched = deviate(name="window_params", value="a,b").json()["deviations"]
    assert switched == {**Deviations().as_json(), "window_params": ["a", "b"]}
    for params, named in (
        ({"value": "true"}, "name is required"),
        ({"name": "colour", "value": "true"}, "name must be one of"),
        ({"name": "omit_total", "value": TEST_API_KEY}, "true or false"),
        ({"name": "page_cap", "value": "0"}, "page_cap"),
        ({"name": "page_cap", "value": TEST_API_KEY}, "page_cap"),
        ({"name": "window_params", "value": "a"}, "window_params"),
        ({"name": "window_params", "value": "offset,b"}, "window_params"),
        ({"name": "moves_while_paging", "value": "-1"}, "moves_while_paging"),
        ({"name": "moves_while_paging", "value": "1.5"}, "moves_while_paging"),
        ({"name": "moves_while_paging", "value": TEST_API_KEY}, "moves_while_paging"),
        ({"name": "omit_total", "value": "true", "times": "2"}, "accepts: name, value"),
    ):
        response = deviate(**params)
        assert response.status_code == 400, params
        assert named in response.json()["error"] and TEST_API_KEY not in response.text
    assert sim.deviations == Deviations(window_params=("a", "b"))
    assert control(sim, "deviate", "GET").status_code == 405
    elsewhere = sim.control("POST", "/_control/deviate?name=omit_total&value=true", "10.0.0.1")
    assert elsewhere.status == 403
    assert sim.deviations == Deviations(window_params=("a", "b"))
    assert sim.request_count == 0  # control calls are not API requests


def test_cli_flags_set_every_switch() -> None:
    """Every switch of the contract's shape but integers_as_floats, which numbers_as_strings
    excludes (the next test); the paging and auth styles' flags: test_simulator_shapes.py."""
    process = run_cli(
        *("--port", "0", "--rows", "30", "--ignore-window", "--omit-total"),
        *("--window-params", "modified_after,modified_before", "--total-ignores-window"),
        *("--page-cap", "7", "--numbers-as-strings", "--rate-limit-headers"),
        *("--null-when-empty", "--moves-while-paging", "2", "--quota-per-second", "50"),
    )
    try:
        match = LISTENING.match(process.stdout.readline())  # type: ignore[union-attr]
        assert match
        # Setting a switch to the value it has answers with every switch in force.
        current = requests.post(
            f"{match[1]}/_control/deviate?name=omit_total&value=true", timeout=10
        ).json()["deviations"]
        assert current == {
            "ignore_window": True,
            "window_params": ["modified_after", "modified_before"],
            "omit_total": True,
            "total_ignores_window": True,
            "page_cap": 7,
            "null_when_empty": True,
            "numbers_as_strings": True,
            "integers_as_floats": False,
            "rate_limit_headers": True,
            "quota_per_second": 50,
            "moves_while_paging": 2,
            "paging": "offset",
            "next_url_base": None,
            "auth": "query",
            "auth_header": "X-API-Key",
        }
        response = requests.get(
            f"{match[1]}/v1/resource?api_key=cli-key&modified_after=2027-01-01", timeout=10
        )
        page = response.json()
        assert len(page["data"]) == 7 and "total" not in page
        assert all(isinstance(record["id"], str) for record in page["data"])
        assert response.headers["X-RateLimit-Remaining"] == str(RATE_LIMIT - 1)
        empty = requests.get(f"{match[1]}/v1/resource?api_key=cli-key&offset=30", timeout=10)
        assert empty.json()["data"] is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate()


def test_cli_flag_sends_integers_as_floats() -> None:
    process = run_cli("--port", "0", "--rows", "3", "--integers-as-floats")
    try:
        match = LISTENING.match(process.stdout.readline())  # type: ignore[union-attr]
        assert match
        content = requests.get(f"{match[1]}/v1/resource?api_key=cli-key", timeout=10).content
        assert len(re.findall(rb'"id":\d+\.0,', content)) == 3, content
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate()


@pytest.mark.parametrize(
    "args",
    [
        ["--window-params", "since"],
        ["--window-params", "a,a"],
        ["--page-cap", "0"],
        ["--moves-while-paging", "-1"],
        ["--moves-while-paging", "many"],
        ["--integers-as-floats", "--numbers-as-strings"],
    ],
)
def test_cli_rejects_bad_switches(args, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(args)
    assert exit_info.value.code == 2
    assert args[0] in capsys.readouterr().err


def test_deviations_compose_with_hostile_answers_and_drift(sim) -> None:
    sim.deviate(page_cap=40, numbers_as_strings=True)
    sim.retype_field("unit_price", "number")
    sim.add_field("colour", "red")
    sim.serve_next("short")

    page = body(sim)
    assert len(page["data"]) == 20 and page["total"] == ROWS
    first = page["data"][0]
    assert isinstance(first["id"], str) and first["colour"] == "red"
    assert first["unit_price"] is None or isinstance(first["unit_price"], float | int)


# -- records that move while a client pages ------------------------------------------------------


def in_window(records: list[dict], window: dict[str, str] = BUSY_WINDOW) -> list[dict]:
    since, before = (window[name][:19] for name in ("updated_since", "updated_before"))
    return served_order([r for r in records if since <= r["updated_at"] < before])


def test_moves_while_paging_skips_one_record_and_serves_another_twice(make_sim) -> None:
    sim = make_sim(rows=1000)
    window = in_window(sim.records)
    assert 300 < len(window) < 500
    assert sim.deviate(moves_while_paging=1).moves_while_paging == 1

    first_pass = page_through(sim, limit=100, **BUSY_WINDOW)
    assert len(first_pass) == len(window) == body(sim, **BUSY_WINDOW)["total"]
    served = Counter(ids(first_pass))
    assert len(served) == len(window) - 1
    assert [i for i, times in served.items() if times > 1] == [window[0]["id"]]
    assert window[100]["id"] not in served  # slid back to the page already served
    moved = first_pass[-1]
    assert moved["id"] == window[0]["id"] and moved["quantity"] != window[0]["quantity"]
    assert window[-1]["updated_at"] < moved["updated_at"] < BUSY_WINDOW["updated_before"]
    assert MOVED_TIME.match(moved["updated_at"])
    assert moved == {**window[0], "updated_at": moved["updated_at"], "quantity": moved["quantity"]}
    assert sim.deviations.moves_while_paging == 0

    second_pass = page_through(sim, limit=100, **BUSY_WINDOW)
    assert second_pass == in_window(sim.records) == [*window[1:], moved]
    # Over HTTP, any deviate answer shows the moves left: here, setting a switch as it is.
    left = control(sim, "deviate", name="omit_total", value="false").json()["deviations"]
    assert left["moves_while_paging"] == 0


def test_only_later_pages_of_a_window_with_both_bounds_move_records(make_sim) -> None:
    sim = make_sim(rows=1000, moves_while_paging=9)
    before = sim.records
    since = {"updated_since": BUSY_WINDOW["updated_since"]}
    vendor_window = dict(zip(VENDOR_NAMES, BUSY_WINDOW.values(), strict=True))
    get(sim, offset=0, **BUSY_WINDOW)  # the first page
    get(sim, offset=100, **since)  # half a window
    get(sim, offset=100)  # no window
    get(sim, WAREHOUSES, offset=1, **BUSY_WINDOW)  # only the inventory moves
    get(sim, offset=100, api_key="wrong", **BUSY_WINDOW)  # 401
    get(sim, offset=100, limit=0, **BUSY_WINDOW)  # 400
    sim.fail_next(503)
    get(sim, offset=100, **BUSY_WINDOW)
    sim.deviate(ignore_window=True)
    get(sim, offset=100, **BUSY_WINDOW)
    sim.deviate(ignore_window=False, window_params=VENDOR_NAMES)
    get(sim, offset=100, **BUSY_WINDOW)  # names the vendor does not honour
    assert sim.records == before and sim.deviations.moves_while_paging == 9

    get(sim, offset=100, **vendor_window)
    get(sim, offset=100, **vendor_window)
    moved = [r for r in sim.records if r not in before]
    assert ids(moved) == sorted(ids(in_window(before)[:2]))
    assert sim.deviations.moves_while_paging == 7
    # Only a record already served moves: a raw one without a time heads every window.
    sim.put_raw({"id": 1, "updated_at": "never"})
    get(sim, offset=1, **vendor_window)
    assert sim.deviations.moves_while_paging == 7
    sim.retype_field("quantity", "text")  # a vendor update writes a number again
    get(sim, offset=2, **vendor_window)
    assert sim.deviations.moves_while_paging == 6
    assert sum(isinstance(r.get("quantity"), int) for r in sim.records) == 1


def test_concurrent_pages_spend_each_move_once(make_sim) -> None:
    sim = make_sim(rows=1000, moves_while_paging=5)
    before = sim.records
    threads = [
        threading.Thread(target=get, args=(sim,), kwargs={"offset": 100, **BUSY_WINDOW})
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sim.deviations.moves_while_paging == 0
    assert len([r for r in sim.records if r not in before]) == 5


# -- deleted records ------------------------------------------------------------------------------


def test_deleted_records_vanish_from_pages_totals_and_state(sim) -> None:
    before = sim.records
    on_day = of_day(before)[0]["id"]

    assert sim.delete([5, 3, 5, on_day]) == [before[i - 1] for i in sorted({3, 5, on_day})]
    kept = [r for r in before if r["id"] not in {3, 5, on_day}]
    assert sim.records == kept
    assert page_through(sim) == served_order(kept)
    assert body(sim)["total"] == len(kept) and body(sim, **DAY)["total"] == len(of_day(kept))
    assert sim.state()["rows"] == len(kept)
    with pytest.raises(KeyError):
        sim.touch([3], dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    with pytest.raises(KeyError):
        sim.delete([4, 3])  # 3 is gone already: nothing is deleted
    assert sim.records == kept


def test_touch_random_and_state_cope_with_a_shrinking_data_set(sim) -> None:
    assert len(sim.delete_random(count=ROWS - 10)) == ROWS - 10
    with pytest.raises(ValueError, match="count"):
        sim.touch_random(count=11)
    touched = sim.touch_random(count=10)
    assert sorted(c["id"] for c in touched) == ids(sim.records)
    assert sim.state()["newest_updated_at"] == touched[0]["updated_at"]

    sim.delete_random(count=10)
    assert sim.state() == {"rows": 0, "newest_updated_at": None}
    assert body(sim) == {"data": [], "total": 0, "offset": 0, "limit": 100}
    for action in (sim.touch_random, sim.delete_random):
        with pytest.raises(ValueError, match="count"):
            action()


def test_delete_random_is_deterministic_and_can_keep_to_one_day(make_sim) -> None:
    def sequence(sim: InventoryApiSimulator) -> list[list[dict]]:
        return [
            sim.delete_random(3),
            sim.delete_random(2, day="2026-11-02"),
            sim.delete_random(day=dt.date(2026, 11, 4)),
        ]

    first = sequence(make_sim())
    assert first == sequence(make_sim())
    assert first != sequence(make_sim(seed=8))
    assert [len(deleted) for deleted in first] == [3, 2, 1]
    assert all(r["updated_at"].startswith("2026-11-02") for r in first[1])
    assert first[2][0]["updated_at"].startswith("2026-11-04")
    sim = make_sim()
    on_day = len(of_day(sim.records, "2026-11-03"))
    for kwargs, named in (
        ({"count": 0}, "count"),
        ({"count": on_day + 1, "day": "2026-11-03"}, "records of that day"),
        ({"day": "2026-11-31"}, "day"),
        ({"day": "20261103"}, "day"),
    ):
        with pytest.raises(ValueError, match=named):
            sim.delete_random(**kwargs)  # type: ignore[arg-type]
    assert len(sim.records) == ROWS


def test_delete_endpoint_takes_ids_or_a_count(sim) -> None:
    def delete(**params: object) -> requests.Response:
        return control(sim, "delete", **params)

    assert ids(delete(ids="1,2").json()["deleted"]) == [1, 2]
    on_day = delete(count=3, day="2026-11-03").json()["deleted"]
    assert len(on_day) == 3 and all(r["updated_at"].startswith("2026-11-03") for r in on_day)
    assert len(delete().json()["deleted"]) == 1  # count defaults to 1, as for touch
    remaining = sim.records
    assert len(remaining) == ROWS - 6
    for params, named in (
        ({"ids": "1,x"}, "ids must be integers"),
        ({"ids": "3", "count": "2"}, "cannot be combined"),
        ({"ids": "1,3"}, "nothing was deleted"),  # 1 is gone already
        ({"count": 0}, "count"),
        ({"count": ROWS}, "count"),
        ({"day": "2026-13-01"}, "day"),
        ({"cnt": 5}, "accepts: count, day, ids"),
    ):
        response = delete(**params)
        assert response.status_code == 400, params
        assert named in response.json()["error"], params
    assert sim.records == remaining
    assert control(sim, "delete", "GET").headers["Allow"] == "POST"
    assert sim.control("POST", "/_control/delete?ids=4", "192.0.2.7").status == 403
    assert sim.records == remaining and sim.request_count == 0
