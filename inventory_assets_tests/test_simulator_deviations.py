"""The simulator's second endpoint, /v1/warehouses, over real HTTP.

It must page, authenticate and filter as /v1/resource does, and list exactly
the warehouses the inventory records name.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from inventory_api_sim import InventoryApiSimulator, generate_records, generate_warehouses
from inventory_assets_tests.conftest import SIM_DAYS, SIM_START, TEST_API_KEY, make_simulator
from inventory_assets_tests.test_simulator import TIMESTAMP

ROWS = 300
RESOURCE = "/v1/resource"
WAREHOUSES = "/v1/warehouses"


@pytest.fixture
def make_sim() -> Iterator[Callable[..., InventoryApiSimulator]]:
    """Start simulators with the test key and any config; all are stopped afterwards."""
    started: list[InventoryApiSimulator] = []

    def make(**overrides: Any) -> InventoryApiSimulator:
        started.append(make_simulator(**{"rows": ROWS, **overrides}))
        return started[-1]

    yield make
    for simulator in started:
        simulator.stop()


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
        {"api_key": "***", "limit": "3", "_path": WAREHOUSES},
        {"api_key": "***", "limit": "3", "_path": RESOURCE},
        {"api_key": "***", "_path": WAREHOUSES},
    ]
    sim.fail_next(503)  # the gateway fronts both endpoints
    assert get(sim, WAREHOUSES).status_code == 503
    sim.total_delta = 10  # a lie about the inventory total only
    assert body(sim, WAREHOUSES)["total"] == 5 and body(sim)["total"] == ROWS + 10
