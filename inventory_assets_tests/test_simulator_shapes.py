"""The simulator imitates REST vendors of other shapes: paging styles and auth styles.

Each paging style must serve a window exactly, in (updated_at, key) order, to
a client that pages by the style's own mechanism, and end it with the style's
own signal; next links must be absolute and never carry the key. Each auth
style must take the right credential in its own place only, OAuth2 through
its token endpoint, and the request log must show how a request
authenticated without showing the secret. The switches work as config
fields, at run time and as CLI flags, like every deviation.
"""

import base64
import datetime as dt
import json
import signal
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from inventory_api_sim import InventoryApiSimulator, RecordingServer, SimulatorConfig, oauth
from inventory_api_sim.cli import main as cli_main
from inventory_api_sim.deviations import Deviations
from inventory_assets_tests.conftest import SMALL_SIM_ROWS, TEST_API_KEY
from inventory_assets_tests.test_simulator import LISTENING, control, run_cli

ROWS = SMALL_SIM_ROWS
RESOURCE = "/v1/resource"
WAREHOUSES = "/v1/warehouses"
WINDOW = {"updated_since": "2026-11-02T00:00:00Z", "updated_before": "2026-11-04T00:00:00Z"}
PAGE_SIZE = 7  # several pages of the window, the last one short
STYLES = ("page_number", "cursor", "header_link", "json_link")


def get(
    sim: InventoryApiSimulator, path: str = RESOURCE, headers: dict | None = None, **params: Any
) -> requests.Response:
    params.setdefault("api_key", TEST_API_KEY)
    return requests.get(f"{sim.url}{path}", params=params, headers=headers, timeout=10)


def body(sim: InventoryApiSimulator, path: str = RESOURCE, **params: Any) -> Any:
    response = get(sim, path, **params)
    assert response.status_code == 200, response.text
    return response.json()


def in_window(
    records: list[dict],
    key: str = "id",
    since: str = WINDOW["updated_since"][:19],
    before: str = WINDOW["updated_before"][:19],
) -> list[dict]:
    """The records of a window, in serving order."""
    chosen = [r for r in records if since <= r["updated_at"] < before]
    return sorted(chosen, key=lambda record: (record["updated_at"], record[key]))


def ids(records: list[dict]) -> list[int]:
    return [record["id"] for record in records]


# -- a client of each paging style, paging by the style's own mechanism -------------------------

Pages = list[list[dict]]


def by_page_number(sim: InventoryApiSimulator, path: str, size: int, **window: Any) -> Pages:
    pages, number = [], 1
    while True:
        page = body(sim, path, page=number, per_page=size, **window)
        assert set(page) == {"items", "page_context"}
        context = page["page_context"]
        assert context["page"] == number and context["per_page"] == size
        pages.append(page["items"])
        if not context["has_more_page"]:
            return pages
        number += 1


def by_cursor(
    sim: InventoryApiSimulator, path: str, size: int, cursor: str | None = None, **window: Any
) -> Pages:
    pages = []
    while True:
        at = {} if cursor is None else {"cursor": cursor}
        page = body(sim, path, limit=size, **at, **window)  # the window on every request
        assert set(page) == {"data", "next_cursor"}
        pages.append(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def keyless_next(sim: InventoryApiSimulator, url: str, sent: dict[str, Any], page: int) -> None:
    """A next URL: absolute, on the simulator, the request's parameters, page + 1, no key."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == sim.url and parts.path in (RESOURCE, WAREHOUSES)
    expected = {name: [str(value)] for name, value in sent.items() if name != "api_key"}
    assert parse_qs(parts.query) == {**expected, "page": [str(page + 1)]}
    assert TEST_API_KEY not in url and "api_key" not in url


def header_next(response: requests.Response) -> str | None:
    return response.links.get("next", {}).get("url")


def json_next(response: requests.Response) -> str | None:
    return response.json()["next"]


def by_links(
    sim: InventoryApiSimulator,
    path: str,
    size: int,
    next_of: Callable[[requests.Response], str | None],
    **window: Any,
) -> Pages:
    """Follow next URLs from the first page; the key is added to each, as a client must."""
    sent = {"api_key": TEST_API_KEY, "per_page": size, "page_size": size, **window}
    url: str | None = f"{sim.url}{path}"
    params: dict[str, Any] = sent
    pages = []
    with requests.Session() as session:
        while url is not None:
            response = session.get(url, params=params, timeout=10)
            assert response.status_code == 200, response.text
            payload = response.json()
            pages.append(payload if isinstance(payload, list) else payload["results"])
            url = next_of(response)
            if url is not None:
                keyless_next(sim, url, sent, len(pages))
            params = {"api_key": TEST_API_KEY}  # the link carries everything but the key
    return pages


NEXT_OF = {"header_link": header_next, "json_link": json_next}
CLIENTS: dict[str, Callable[..., Pages]] = {
    "page_number": by_page_number,
    "cursor": by_cursor,
    **{
        style: lambda sim, path, size, next_of=next_of, **window: by_links(
            sim, path, size, next_of, **window
        )
        for style, next_of in NEXT_OF.items()
    },
}


def flat(pages: Pages) -> list[dict]:
    return [record for page in pages for record in page]


@pytest.mark.parametrize(("path", "size"), [(RESOURCE, PAGE_SIZE), (WAREHOUSES, 2)])
@pytest.mark.parametrize("style", STYLES)
def test_each_style_serves_a_window_exactly_in_order(make_sim, style, path, size) -> None:
    sim = make_sim(paging=style)
    if path == RESOURCE:
        window, expected = WINDOW, in_window(sim.records)
    else:  # five warehouses: all of them
        window, expected = {}, in_window(sim.warehouses, "code", since="2026", before="2027")

    pages = CLIENTS[style](sim, path, size, **window)
    assert flat(pages) == expected
    assert len(pages) == -(-len(expected) // size) > 1  # the end signal came on time
    assert all(len(page) == size for page in pages[:-1])


def test_page_number_beyond_the_end_and_bad_parameters(make_sim) -> None:
    sim = make_sim(paging="page_number")

    assert body(sim, page=99, **WINDOW) == {
        "items": [],
        "page_context": {"page": 99, "per_page": 100, "has_more_page": False},
    }
    assert body(sim)["page_context"] == {"page": 1, "per_page": 100, "has_more_page": True}
    assert body(sim, page=3)["page_context"]["has_more_page"] is False  # 300 records
    for params, named in (({"page": 0}, "page"), ({"per_page": 101}, "per_page")):
        response = get(sim, **params)
        assert response.status_code == 400 and named in response.json()["error"]
    assert len(body(sim, offset=200, limit=5)["items"]) == 100  # offset is not its parameter


def test_a_cursor_is_keyset_and_opaque_to_the_client(make_sim) -> None:
    sim = make_sim(paging="cursor")
    window = in_window(sim.records)
    first = body(sim, limit=PAGE_SIZE, **WINDOW)
    last = first["data"][-1]

    decoded = base64.urlsafe_b64decode(first["next_cursor"] + "==")
    assert json.loads(decoded) == [last["updated_at"][:19] + ".000000", last["id"]]
    # An update moves a record already served to the window's end: an offset
    # client now skips one; the keyset cursor starts after the last record served.
    end = dt.datetime.fromisoformat(WINDOW["updated_before"]) - dt.timedelta(seconds=1)
    sim.touch([window[0]["id"]], end)
    resumed = flat(by_cursor(sim, RESOURCE, PAGE_SIZE, first["next_cursor"], **WINDOW))
    assert ids(resumed) == [*ids(window[PAGE_SIZE:]), window[0]["id"]]
    sim.deviate(paging="offset")
    assert body(sim, offset=PAGE_SIZE, **WINDOW)["data"][0] == window[PAGE_SIZE + 1]
    # The cursor holds the position only: without the window it pages on beyond it.
    sim.deviate(paging="cursor")
    beyond = body(sim, cursor=first["next_cursor"])["data"]
    after = [
        r for r in sim.records if (r["updated_at"], r["id"]) > (last["updated_at"], last["id"])
    ]
    assert beyond == sorted(after, key=lambda r: (r["updated_at"], r["id"]))[:100]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 at all!",
        base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
        base64.urlsafe_b64encode(b'["2026-11-02", 5]').decode(),  # not a sort key
        base64.urlsafe_b64encode(b'["2026-11-02T00:00:00.000000", "WH-AMS"]').decode(),
        base64.urlsafe_b64encode(TEST_API_KEY.encode()).decode(),
        TEST_API_KEY,
    ],
)
def test_an_invalid_cursor_is_a_400_that_names_it_without_echo(make_sim, cursor) -> None:
    sim = make_sim(paging="cursor")
    response = get(sim, cursor=cursor)

    assert response.status_code == 400
    assert response.json() == {"error": "cursor must be a next_cursor from this listing"}
    assert TEST_API_KEY not in response.text


def test_a_cursor_belongs_to_its_listing(make_sim) -> None:
    sim = make_sim(paging="cursor")
    code_cursor = body(sim, WAREHOUSES, limit=1)["next_cursor"]  # a code, not an id

    assert body(sim, WAREHOUSES, cursor=code_cursor)["data"]
    assert get(sim, cursor=code_cursor).status_code == 400


@pytest.mark.parametrize("style", ["header_link", "json_link"])
def test_next_urls_are_absolute_and_never_carry_the_key(make_sim, style) -> None:
    sim = make_sim(paging=style)
    size = "per_page" if style == "header_link" else "page_size"
    sent = {"api_key": TEST_API_KEY, size: 50, "page": 2, "extra": "kept", **WINDOW}
    next_url = NEXT_OF[style](get(sim, **sent))

    assert next_url is not None
    keyless_next(sim, next_url, sent, 2)
    last = get(sim, **{**sent, "page": 3})
    assert NEXT_OF[style](last) is None and "Link" not in last.headers
    sim.deviate(auth="bearer")
    bearer = {"Authorization": f"Bearer {TEST_API_KEY}"}
    no_key = {k: v for k, v in sent.items() if k != "api_key"}
    linked = NEXT_OF[style](get(sim, headers=bearer, **no_key))
    assert linked is not None and TEST_API_KEY not in linked


def test_header_link_sends_a_bare_list(make_sim) -> None:
    sim = make_sim(paging="header_link")
    response = get(sim, per_page=3, **WINDOW)

    assert response.json() == in_window(sim.records)[:3]
    assert response.headers["Link"] == f'<{header_next(response)}>; rel="next"'
    sim.deviate(null_when_empty=True)  # the body is the data itself
    assert get(sim, page=99).content == b"null"


def test_json_link_counts_the_window_and_links_both_ways(make_sim) -> None:
    sim = make_sim(paging="json_link")
    window = in_window(sim.records)
    second = body(sim, page=2, page_size=10, **WINDOW)

    assert list(second) == ["count", "next", "previous", "results"]
    assert second["count"] == len(window) and second["results"] == window[10:20]
    assert parse_qs(urlsplit(second["previous"]).query)["page"] == ["1"]
    assert body(sim, page_size=10, **WINDOW)["previous"] is None
    assert body(sim, page=99, **WINDOW) == {
        "count": len(window),
        "next": None,
        "previous": f"{sim.url}{RESOURCE}?page=98&updated_since=2026-11-02T00%3A00%3A00Z"
        "&updated_before=2026-11-04T00%3A00%3A00Z",
        "results": [],
    }
    sim.deviate(total_ignores_window=True)
    assert body(sim, **WINDOW)["count"] == ROWS
    sim.deviate(omit_total=True)
    assert "count" not in body(sim, **WINDOW)


@pytest.mark.parametrize("style", ["header_link", "json_link"])
def test_next_url_base_points_the_links_at_another_host(make_sim, style) -> None:
    with RecordingServer() as elsewhere:
        sim = make_sim(paging=style, next_url_base=elsewhere.url)
        next_url = NEXT_OF[style](get(sim, per_page=5, page_size=5, **WINDOW))
        assert next_url is not None and next_url.startswith(f"{elsewhere.url}{RESOURCE}?")
        assert TEST_API_KEY not in next_url

        followed = requests.get(next_url, timeout=10)  # a client that trusts the link blindly
        assert followed.status_code == 200 and followed.json() == []
        [arrived] = elsewhere.requests
        assert arrived.target == next_url.removeprefix(elsewhere.url)
        assert TEST_API_KEY not in repr(arrived)
    sim.deviate(next_url_base=None)
    own = NEXT_OF[style](get(sim, per_page=5, page_size=5, **WINDOW))
    assert own is not None and own.startswith(sim.url)


def test_styles_compose_with_the_other_deviations(make_sim) -> None:
    sim = make_sim(paging="page_number", page_cap=5)
    window = in_window(sim.records)

    first = body(sim, per_page=50, **WINDOW)  # the vendor's own size is 5, and it says so
    assert first["page_context"] == {"page": 1, "per_page": 5, "has_more_page": True}
    numbers = range(1, len(window) // 5 + 3)  # one page past the end
    pages = [body(sim, per_page=50, page=n, **WINDOW)["items"] for n in numbers]
    assert flat(pages) == window  # numbered by the size served: nothing skipped
    sim.deviate(paging="cursor", numbers_as_strings=True)
    page = body(sim, limit=50, **WINDOW)
    assert len(page["data"]) == 5 and all(isinstance(r["id"], str) for r in page["data"])
    sim.deviate(paging="page_number", null_when_empty=True, page_cap=None)
    assert body(sim, page=99)["items"] is None
    sim.deviate(paging="json_link", ignore_window=True)
    assert body(sim, **WINDOW)["count"] == ROWS
    sim.deviate(paging="header_link", ignore_window=False, numbers_as_strings=False)
    sim.serve_next("short")  # a hostile page keeps the Link of the page it bends
    short = get(sim, per_page=10, **WINDOW)
    assert short.json() == window[:5] and header_next(short) is not None
    sim.deviate(paging="cursor", window_params=("modified_after", "modified_before"))
    vendor = {
        "modified_after": WINDOW["updated_since"],
        "modified_before": WINDOW["updated_before"],
    }
    assert flat(by_cursor(sim, RESOURCE, PAGE_SIZE, **vendor)) == window


def test_window_params_cannot_take_a_paging_parameter_of_any_style() -> None:
    for name in ("page", "per_page", "page_size", "cursor"):
        with pytest.raises(ValueError, match="window_params"):
            Deviations(window_params=(name, "before"))


# -- auth styles ---------------------------------------------------------------------------------

# Where a client can put the key: requests' params, headers and auth for each place.
PLACES: dict[str, Callable[[str], dict[str, Any]]] = {
    "query": lambda key: {"params": {"api_key": key}},
    "header": lambda key: {"headers": {"X-API-Key": key}},
    "bearer": lambda key: {"headers": {"Authorization": f"Bearer {key}"}},
    "token": lambda key: {"headers": {"Authorization": f"Token {key}"}},
    "basic": lambda key: {"auth": ("sim-user", key)},
}


def call(sim: InventoryApiSimulator, path: str = RESOURCE, **how: Any) -> requests.Response:
    return requests.get(f"{sim.url}{path}", timeout=10, **how)


@pytest.mark.parametrize("style", list(PLACES))
def test_each_auth_style_takes_the_key_in_its_own_place_only(make_sim, style, capfd) -> None:
    sim = make_sim(auth=style)

    for path in (RESOURCE, WAREHOUSES):
        assert call(sim, path, **PLACES[style](TEST_API_KEY)).status_code == 200
    refused = [call(sim), call(sim, **PLACES[style]("wrong-key-123"))]
    refused += [call(sim, **place(TEST_API_KEY)) for name, place in PLACES.items() if name != style]
    if style == "basic":
        refused.append(call(sim, auth=("someone-else", TEST_API_KEY)))
    for response in refused:
        assert response.status_code == 401
        assert response.json() == {"error": "invalid or missing api key"}
        assert TEST_API_KEY not in response.text
    captured = capfd.readouterr()
    assert TEST_API_KEY not in captured.out + captured.err


def test_the_header_style_takes_the_header_named_by_auth_header(make_sim) -> None:
    sim = make_sim(auth="header", auth_header="X-Access-Token")
    token = {"headers": {"x-access-token": TEST_API_KEY}}  # header names ignore case

    assert call(sim, **token).status_code == 200
    assert call(sim, **PLACES["header"](TEST_API_KEY)).status_code == 401
    sim.deviate(auth_header="Authorization")  # a vendor that wants the bare key there
    assert call(sim, headers={"Authorization": TEST_API_KEY}).status_code == 200
    assert call(sim, **PLACES["bearer"](TEST_API_KEY)).status_code == 401


def test_bearer_and_token_schemes_ignore_case(make_sim) -> None:
    sim = make_sim(auth="bearer")
    assert call(sim, headers={"Authorization": f"bearer  {TEST_API_KEY}"}).status_code == 200
    sim.deviate(auth="token")
    assert call(sim, headers={"Authorization": f"TOKEN {TEST_API_KEY}"}).status_code == 200
    sim.deviate(auth="basic")
    assert call(sim, headers={"Authorization": "Basic not-base64!"}).status_code == 401


def test_the_request_log_names_where_each_request_put_a_credential(make_sim) -> None:
    sim = make_sim(auth="header")
    call(sim)
    call(sim, **PLACES["query"](TEST_API_KEY))
    call(sim, **PLACES["header"](TEST_API_KEY))
    for name in ("bearer", "token", "basic"):
        call(sim, **PLACES[name](TEST_API_KEY))
    call(sim, params={"api_key": TEST_API_KEY}, headers={"Authorization": "Bearer x"})
    call(sim, headers={"Authorization": f"Digest {TEST_API_KEY}", "X-API-Key": "k"})

    assert [request["_auth"] for request in sim.requests] == [
        "none",
        "query",
        "header:X-API-Key",
        "bearer",
        "token",
        "basic",
        "query,bearer",
        "header:X-API-Key,authorization",
    ]
    assert sim.requests[1] == {"api_key": "***", "_path": RESOURCE, "_auth": "query"}
    assert TEST_API_KEY not in repr(sim.requests)


# -- OAuth2 client credentials -------------------------------------------------------------------

GRANT = {"grant_type": "client_credentials"}
CLIENT = {"client_id": "sim-client", "client_secret": TEST_API_KEY}


def token_request(sim: InventoryApiSimulator, **how: Any) -> requests.Response:
    return requests.post(f"{sim.url}/oauth/token", timeout=10, **how)


def bearer(token: str) -> dict[str, Any]:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def test_oauth2_issues_tokens_for_client_credentials_in_the_form_or_basic_auth(make_sim) -> None:
    sim = make_sim(auth="oauth2", token_expires_seconds=600)
    in_form = token_request(sim, data={**GRANT, **CLIENT})
    in_basic = token_request(sim, data=GRANT, auth=("sim-client", TEST_API_KEY))

    for response in (in_form, in_basic):
        assert response.status_code == 200, response.text
        issued = response.json()
        assert set(issued) == {"access_token", "token_type", "expires_in"}
        assert issued["token_type"] == "bearer" and issued["expires_in"] == 600
        assert response.headers["Cache-Control"] == "no-store"
        assert call(sim, **bearer(issued["access_token"])).status_code == 200
        assert call(sim, WAREHOUSES, **bearer(issued["access_token"])).status_code == 200
    assert in_form.json()["access_token"] != in_basic.json()["access_token"]
    assert [(r["_path"], r["_auth"]) for r in sim.requests[:2]] == [
        ("/oauth/token", "form"),
        ("/oauth/token", "basic"),
    ]
    assert sim.requests[0] == {**GRANT, "client_id": "sim-client", "client_secret": "***"} | {
        "_path": "/oauth/token",
        "_auth": "form",
    }
    assert sim.request_count == 6
    logged = repr(sim.requests)
    assert TEST_API_KEY not in logged and in_form.json()["access_token"] not in logged


def test_oauth2_refuses_bad_clients_and_anything_but_an_issued_token(make_sim) -> None:
    sim = make_sim(auth="oauth2")
    for how in (
        {"data": {**GRANT, **CLIENT, "client_secret": "wrong"}},
        {"data": {**GRANT, **CLIENT, "client_id": "other"}},
        {"data": GRANT},
        {"data": GRANT, "auth": ("sim-client", "wrong")},
        {"data": GRANT, "headers": {"Authorization": "Basic !!"}},
    ):
        response = token_request(sim, **how)
        assert response.status_code == 401, how
        assert response.json() == {"error": "invalid client credentials"}
    wrong_grant = token_request(sim, data={**CLIENT, "grant_type": "password"})
    assert wrong_grant.status_code == 400 and "grant_type" in wrong_grant.json()["error"]

    refused = {"error": "invalid, expired or missing access token"}
    for how in (
        {},
        bearer("made-up"),
        bearer(TEST_API_KEY),  # the secret is not a token
        PLACES["query"](TEST_API_KEY),
        PLACES["token"](token_request(sim, data={**GRANT, **CLIENT}).json()["access_token"]),
    ):
        response = call(sim, **how)
        assert response.status_code == 401 and response.json() == refused
    assert requests.get(f"{sim.url}/oauth/token", timeout=10).status_code == 405


def test_an_expired_token_is_refused(make_sim, monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(oauth, "_now", lambda: clock[0])
    sim = make_sim(auth="oauth2", token_expires_seconds=60)
    token = token_request(sim, data={**GRANT, **CLIENT}).json()["access_token"]

    clock[0] += 59
    assert call(sim, **bearer(token)).status_code == 200
    clock[0] += 1
    assert call(sim, **bearer(token)).status_code == 401
    fresh = token_request(sim, data={**GRANT, **CLIENT}).json()["access_token"]
    assert call(sim, **bearer(fresh)).status_code == 200


def test_the_token_endpoint_exists_in_the_oauth2_style_only(make_sim) -> None:
    sim = make_sim()
    assert token_request(sim, data={**GRANT, **CLIENT}).status_code == 404
    assert sim.request_count == 0
    sim.deviate(auth="oauth2")
    too_big = token_request(sim, data=b"x" * (oauth.MAX_TOKEN_BODY + 1))
    assert too_big.status_code == 413 and "64 KiB" in too_big.json()["error"]
    assert token_request(sim, data={**GRANT, **CLIENT}).status_code == 200
    assert requests.put(f"{sim.url}/oauth/token", timeout=10).status_code == 405
    assert requests.post(f"{sim.url}{RESOURCE}", timeout=10).status_code == 405


# -- the switches: config, at run time, over HTTP, CLI -------------------------------------------

NEW_SWITCHES = [
    ("paging", "json_link", "json_link"),
    ("next_url_base", "http://127.0.0.1:9", "http://127.0.0.1:9/"),
    ("auth", "basic", "basic"),
    ("auth_header", "X-Access-Token", "X-Access-Token"),
]


@pytest.mark.parametrize(("name", "value", "text"), NEW_SWITCHES)
def test_a_shape_switch_flipped_at_run_time_equals_the_config(make_sim, name, value, text) -> None:
    configured, in_process, over_http = make_sim(**{name: value}), make_sim(), make_sim()

    assert in_process.deviate(**{name: value}) == configured.deviations != Deviations()
    response = control(over_http, "deviate", name=name, value=text)
    assert response.status_code == 200, response.text
    assert response.json() == {"deviations": configured.deviations.as_json()}
    assert over_http.deviations == configured.deviations


def test_the_switches_change_what_a_running_simulator_serves(make_sim) -> None:
    sim = make_sim()
    assert control(sim, "deviate", name="paging", value="page_number").status_code == 200
    assert "page_context" in body(sim)
    control(sim, "deviate", name="auth", value="token")
    assert get(sim).status_code == 401
    assert call(sim, **PLACES["token"](TEST_API_KEY)).status_code == 200
    control(sim, "deviate", name="auth", value="query")
    control(sim, "deviate", name="paging", value="offset")
    assert set(body(sim)) == {"data", "total", "offset", "limit"}
    control(sim, "deviate", name="next_url_base", value="http://example.test:81")
    assert sim.deviations.next_url_base == "http://example.test:81"
    cleared = control(sim, "deviate", name="next_url_base", value="none").json()
    assert cleared["deviations"]["next_url_base"] is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("paging", "links"),
        ("paging", TEST_API_KEY),
        ("auth", "digest"),
        ("auth", TEST_API_KEY),
        ("auth_header", "X API Key"),
        ("auth_header", ""),
        ("next_url_base", "ftp://127.0.0.1:9"),
        ("next_url_base", "http://127.0.0.1:9/v1"),
        ("next_url_base", "http://127.0.0.1:port"),
        ("next_url_base", "http://user:pw@127.0.0.1"),
        ("next_url_base", "127.0.0.1:9"),
        ("next_url_base", f"http://h/?k={TEST_API_KEY}"),
    ],
)
def test_bad_shape_switches_are_refused_by_name_without_echo(make_sim, name, value) -> None:
    sim = make_sim()
    response = control(sim, "deviate", name=name, value=value)

    assert response.status_code == 400 and name in response.json()["error"]
    assert TEST_API_KEY not in response.text
    with pytest.raises(ValueError, match=name):
        sim.deviate(**{name: value})
    with pytest.raises(ValueError, match=name):
        SimulatorConfig(**{name: value})
    assert sim.deviations == Deviations()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"basic_username": ""}, "basic_username"),
        ({"basic_username": "a:b"}, "basic_username"),
        ({"oauth_client_id": ""}, "oauth_client_id"),
        ({"token_expires_seconds": 0}, "token_expires_seconds"),
        ({"token_expires_seconds": True}, "token_expires_seconds"),
    ],
)
def test_config_rejects_bad_credentials(overrides, named) -> None:
    with pytest.raises(ValueError, match=named):
        SimulatorConfig(**overrides)


def test_cli_flags_set_the_paging_and_auth_styles() -> None:
    process = run_cli(
        *("--port", "0", "--rows", "30", "--paging", "json_link", "--auth", "basic"),
        *("--next-url-base", "http://127.0.0.1:9", "--basic-username", "cli-user"),
        *("--auth-header", "X-Access-Token"),
    )
    try:
        match = LISTENING.match(process.stdout.readline())  # type: ignore[union-attr]
        assert match
        current = requests.post(
            f"{match[1]}/_control/deviate?name=omit_total&value=false", timeout=10
        ).json()["deviations"]
        assert {k: current[k] for k in ("paging", "next_url_base", "auth", "auth_header")} == {
            "paging": "json_link",
            "next_url_base": "http://127.0.0.1:9",
            "auth": "basic",
            "auth_header": "X-Access-Token",
        }
        url = f"{match[1]}/v1/resource?page_size=10"
        assert requests.get(url, auth=("sim-user", "cli-key"), timeout=10).status_code == 401
        page = requests.get(url, auth=("cli-user", "cli-key"), timeout=10).json()
        assert page["count"] == 30 and len(page["results"]) == 10
        assert page["next"] == "http://127.0.0.1:9/v1/resource?page_size=10&page=2"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate()


def test_cli_flags_set_up_oauth2() -> None:
    process = run_cli(
        *("--port", "0", "--rows", "3", "--auth", "oauth2", "--oauth-client-id", "cli-client"),
        *("--token-expires-seconds", "90", "--paging", "cursor"),
    )
    try:
        match = LISTENING.match(process.stdout.readline())  # type: ignore[union-attr]
        assert match
        form = {**GRANT, "client_id": "cli-client", "client_secret": "cli-key"}
        issued = requests.post(f"{match[1]}/oauth/token", data=form, timeout=10).json()
        assert issued["expires_in"] == 90
        page = requests.get(
            f"{match[1]}/v1/resource", timeout=10, **bearer(issued["access_token"])
        ).json()
        assert len(page["data"]) == 3 and page["next_cursor"] is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert "cli-key" not in process.stderr.read()  # type: ignore[union-attr]
    finally:
        process.kill()
        process.communicate()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--paging", "links"], "--paging"),
        (["--auth", "digest"], "--auth"),
        (["--token-expires-seconds", "0"], "--token-expires-seconds"),
        (["--auth-header", "X API"], "auth_header"),
        (["--next-url-base", "ftp://x"], "next_url_base"),
        (["--basic-username", "a:b"], "basic_username"),
    ],
)
def test_cli_rejects_bad_shapes(args, named, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(args)
    assert exit_info.value.code == 2
    assert named in capsys.readouterr().err


def test_help_names_every_style(capsys) -> None:
    with pytest.raises(SystemExit):
        cli_main(["--help"])
    shown = capsys.readouterr().out
    for style in (*STYLES, "offset", "query", "header", "bearer", "token", "basic", "oauth2"):
        assert style in shown


# -- the recording sink --------------------------------------------------------------------------


def test_the_recording_server_records_what_arrives_verbatim() -> None:
    with RecordingServer() as sink:
        assert sink.requests == []
        target = f"/v1/resource?api_key={TEST_API_KEY}&page=2"  # unencoded, as a leak may be
        got = requests.get(f"{sink.url}{target}", headers={"X-API-Key": TEST_API_KEY}, timeout=10)
        posted = requests.post(f"{sink.url}/oauth/token", data={"client_secret": "s3"}, timeout=10)
        url = sink.url

    assert got.status_code == posted.status_code == 200 and got.json() == []
    first, second = sink.requests  # still readable once stopped
    assert (first.method, first.target) == ("GET", target)
    assert (
        first.header("x-api-key") == TEST_API_KEY and ("X-API-Key", TEST_API_KEY) in first.headers
    )
    assert first.header("Host") == url.removeprefix("http://") and first.body == b""
    assert (second.method, second.target, second.body) == (
        "POST",
        "/oauth/token",
        b"client_secret=s3",
    )
    assert second.header("Authorization") is None
