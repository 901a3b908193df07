"""Vendors of other shapes, configured only in defs.yaml, in dlt's vocabulary.

The issue's four shapes (page numbers with a has-more flag and a key header; a
body cursor with a bearer token; a bare list with `Link` headers, renamed window
parameters and an access-token header; a count/next/results envelope with
`Authorization: Token`), plus HTTP basic and OAuth2 client credentials, each
imitated by the simulator. For each: two partitions load exactly and a re-run
adds nothing, the secret is in no file; the checks and the change sensors work
or say in one line why not; the probe prints the fragment that loads it; and a
next link to another host is refused with that host receiving nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import DagsterInstance, build_sensor_context

from inventory_api_sim import InventoryApiSimulator, RecordingServer
from inventory_assets.defs.inventory_api.component import EndpointDefinitions, build_endpoints
from inventory_assets.defs.inventory_api.resources import vendor_api_resource
from inventory_assets.probe.behaviour import probe
from inventory_assets.settings import (
    DEFS_YAML,
    InventorySettings,
    SettingsError,
    settings_from_yaml,
)
from inventory_assets.sources.inventory_api.client import VendorClient
from inventory_assets.sources.inventory_api.contract import ApiOptions, Credentials
from inventory_assets.sources.inventory_api.errors import ForeignHostError
from inventory_assets_tests.conftest import (
    CONTRACT_COLUMNS,
    TEST_API_KEY,
    as_warehouse_row,
    assert_key_in_no_file,
    check_evaluation,
    day_window,
    expected_records,
    make_resources,
    make_simulator,
    materialize_endpoint,
    no_inventory_environment,
    step_failure_message,
    warehouse_rows,
)

DAYS = ("2026-11-02", "2026-11-03")
KEY_ENV = "INVENTORY_API_KEY"
PASSWORD_ENV = "INVENTORY_API_PASSWORD"


@dataclass(frozen=True)
class Shape:
    """A vendor's shape: the simulator's switches, and what defs.yaml says of it."""

    simulator: dict[str, Any]
    defs: dict[str, Any]  # merged into defs.yaml's attributes
    env: dict[str, str] = field(default_factory=dict)  # besides the secret's variable
    secret: str = TEST_API_KEY  # what the secret's variable holds

    def auth_only(self) -> dict[str, Any]:
        """defs.yaml with only this shape's auth: what the probe starts from."""
        return {"api": self.defs["api"]} if "api" in self.defs else {}


def _endpoint(**described: Any) -> dict[str, Any]:
    return {"endpoints": {"inventory_data": described}}


def _auth(**auth: Any) -> dict[str, Any]:
    return {"api": {"auth": auth}}


def _merged(*parts: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        merged = _deep_merge(merged, part)
    return merged


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


KEY = {"env": KEY_ENV}
SHAPES = {
    "page_number": Shape(
        {"paging": "page_number", "auth": "header", "auth_header": "X-API-Key"},
        _merged(
            _auth(type="api_key", location="header", name="X-API-Key", api_key=KEY),
            _endpoint(
                data_selector="items",
                params={"per_page": 100},
                paginator={
                    "type": "page_number",
                    "base_page": 1,
                    "page_param": "page",
                    "total_path": None,
                    "has_more_path": "page_context.has_more_page",
                },
            ),
        ),
    ),
    "cursor": Shape(
        {"paging": "cursor", "auth": "bearer"},
        _merged(
            _auth(type="bearer", token=KEY),
            _endpoint(
                params={"limit": 100},
                paginator={
                    "type": "cursor",
                    "cursor_path": "next_cursor",
                    "cursor_param": "cursor",
                },
            ),
        ),
    ),
    "header_link": Shape(
        {
            "paging": "header_link",
            "auth": "header",
            "auth_header": "X-Access-Token",
            "window_params": ("updated_at_min", "updated_at_max"),
        },
        _merged(
            _auth(type="api_key", location="header", name="X-Access-Token", api_key=KEY),
            _endpoint(data_selector="$", params={"per_page": 100}, paginator="header_link"),
        ),
        env={
            "INVENTORY_WINDOW_START_PARAM": "updated_at_min",
            "INVENTORY_WINDOW_END_PARAM": "updated_at_max",
        },
    ),
    "json_link": Shape(
        {"paging": "json_link", "auth": "token"},
        _merged(
            _auth(type="api_key", location="header", name="Authorization", api_key=KEY),
            _endpoint(
                data_selector="results",
                params={"page_size": 100},
                paginator={"type": "json_link", "next_url_path": "next", "total_path": "count"},
            ),
        ),
        secret=f"Token {TEST_API_KEY}",  # a header value with a scheme is the secret itself
    ),
}
MORE_AUTH = {
    "token_prefix": Shape(
        {"paging": "json_link", "auth": "token"},
        _merged(
            SHAPES["json_link"].defs,
            _auth(type="api_key", location="header", name="Authorization", prefix="Token "),
        ),
    ),
    "http_basic": Shape(
        {"auth": "basic"},
        _auth(type="http_basic", username="sim-user", password={"env": PASSWORD_ENV}),
    ),
}


OAUTH2_SIMULATOR = {"auth": "oauth2"}


def oauth2_shape(sim_url: str) -> Shape:
    """OAuth2 client credentials against the simulator's own token endpoint (at its URL)."""
    oauth = _auth(
        type="oauth2_client_credentials",
        access_token_url=f"{sim_url}/oauth/token",
        client_id="sim-client",
        client_secret={"env": PASSWORD_ENV},
    )
    return Shape(OAUTH2_SIMULATOR, oauth)


class Vendor:
    """The code location as one defs.yaml configures it, pointed at a simulator."""

    def __init__(
        self, shape: Shape, sim: InventoryApiSimulator, tmp_path: Path, defs=None, env=None
    ) -> None:
        self.sim, self.shape, self.tmp_path = sim, shape, tmp_path
        self.settings = _settings(
            tmp_path, shape.defs if defs is None else defs, shape.env if env is None else env
        )
        self.endpoints = build_endpoints(self.settings)
        self.inventory: EndpointDefinitions = self.endpoints["inventory_data"]
        self.duckdb_path = tmp_path / "data" / "warehouse.duckdb"
        self.resources = {
            **make_resources(sim.url, self.duckdb_path, tmp_path),
            "inventory_vendor_api": self.vendor_api(),
        }
        self.instance = DagsterInstance.ephemeral()

    def vendor_api(self):
        """The resource a run gets: `EnvVar`s, which the test's environment holds."""
        return vendor_api_resource(self.settings.api, base_url=self.sim.url)

    def load(self, partition: str, checks: bool = False):
        return materialize_endpoint(
            self.inventory, self.resources, self.instance, partition, checks
        )

    def tick(self, endpoint: str, cursor: str | None):
        sensor = self.endpoints[endpoint].change_sensor
        with DagsterInstance.ephemeral() as instance:
            context = build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"inventory_vendor_api": self.vendor_api()},
            )
            return sensor(context)


def _set_secrets(monkeypatch: pytest.MonkeyPatch, shape: Shape) -> None:
    """The secrets' variables, set as a deployment would set them."""
    monkeypatch.setenv(KEY_ENV, shape.secret)
    monkeypatch.setenv(PASSWORD_ENV, TEST_API_KEY)


def write_defs_yaml(path: Path, defs: dict[str, Any]) -> Path:
    """The project's defs.yaml with `defs` merged into its attributes, written to `path`."""
    document = yaml.safe_load(DEFS_YAML.read_text())
    document["attributes"] = _deep_merge(document["attributes"], defs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _settings(tmp_path: Path, defs: dict[str, Any], env: dict[str, str]) -> InventorySettings:
    path = write_defs_yaml(tmp_path / "defs.yaml", defs)
    with no_inventory_environment(), pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return settings_from_yaml(path)


@pytest.fixture
def shaped(request, monkeypatch: pytest.MonkeyPatch) -> Iterator[InventoryApiSimulator]:
    """The simulator of the shape `request.param`, its secrets in the environment."""
    _set_secrets(monkeypatch, request.param)
    sim = make_simulator(**request.param.simulator)
    try:
        yield sim
    finally:
        sim.stop()


def rows_of(sim: InventoryApiSimulator, *days: str) -> list[tuple]:
    records = [r for day in days for r in expected_records(sim, *day_window(day))]
    return sorted((as_warehouse_row(r) for r in records), key=lambda row: row[0])


ALL = {**SHAPES, **MORE_AUTH}


def _each(shapes: dict[str, Shape]):
    return pytest.mark.parametrize(
        ("shape", "shaped"),
        [(s, s) for s in shapes.values()],
        ids=list(shapes),
        indirect=["shaped"],
    )


@pytest.mark.parametrize(
    ("paginator", "says"),
    [
        ("nonsense", "(endpoints.inventory_data.paginator in defs.yaml): unknown type 'nonsense'"),
        (
            {"type": "header_link", "has_more_path": "more"},
            "(endpoints.inventory_data.paginator.has_more_path in defs.yaml): header_link takes"
            " no has_more_path; its fields are links_next_key, total_path.",
        ),
        (
            {"type": "cursor", "cursor_path": "meta..next"},
            "(endpoints.inventory_data.paginator.cursor_path in defs.yaml): expected a dotted path",
        ),
        (
            {"type": "page_number", "total_path": None, "stop_after_empty_page": False},
            "needs total_path, has_more_path, maximum_page or",
        ),
    ],
)
def test_a_paginator_that_cannot_work_fails_in_one_line_naming_the_field(
    paginator: Any, says: str, tmp_path: Path
) -> None:
    path = write_defs_yaml(tmp_path / "defs.yaml", _endpoint(paginator=paginator))

    with pytest.raises(SettingsError) as refused:
        settings_from_yaml(path)
    assert says in str(refused.value) and "\n" not in str(refused.value)


@_each(ALL)
def test_two_partitions_load_exactly_and_a_rerun_adds_nothing(
    shape: Shape, shaped: InventoryApiSimulator, tmp_path: Path
) -> None:
    vendor = Vendor(shape, shaped, tmp_path)
    for day in (*DAYS, DAYS[0]):
        result = vendor.load(day)
        assert result.success, step_failure_message(result)

    assert warehouse_rows(vendor.duckdb_path, CONTRACT_COLUMNS) == rows_of(shaped, *DAYS)
    assert_key_in_no_file(tmp_path, secret=TEST_API_KEY)
    auths = {request["_auth"] for request in shaped.requests}
    assert "query" not in ",".join(auths), "the key goes only where the configuration says"


@_each(SHAPES)
def test_rows_match_api_counts_and_compares_each_shape(
    shape: Shape, shaped: InventoryApiSimulator, tmp_path: Path
) -> None:
    result = Vendor(shape, shaped, tmp_path).load(DAYS[0], checks=True)

    evaluation = check_evaluation(result, "rows_match_api")
    assert evaluation.passed, evaluation.description
    assert evaluation.metadata["content_compared"].value
    assert evaluation.metadata["api_total"].value == len(rows_of(shaped, DAYS[0]))


@_each(SHAPES)
def test_the_window_change_sensor_follows_each_shape(
    shape: Shape, shaped: InventoryApiSimulator, tmp_path: Path
) -> None:
    vendor = Vendor(shape, shaped, tmp_path)
    watching = vendor.tick("inventory_data", None)
    shaped.touch_random(3)  # on the vendor's clock: just after its newest record

    changed = vendor.tick("inventory_data", watching.cursor)
    quiet = vendor.tick("inventory_data", changed.cursor)

    newest_day = shaped.state()["newest_updated_at"][:10]
    assert [r.partition_key for r in changed.run_requests] == [newest_day]
    assert not getattr(quiet, "run_requests", None), "nothing requested twice"


@_each({name: SHAPES[name] for name in ("page_number", "cursor")})
def test_a_listing_sensor_that_cannot_reach_the_tail_cheaply_says_so(
    shape: Shape, shaped: InventoryApiSimulator, tmp_path: Path
) -> None:
    shaped.deviate(ignore_window=True)
    listing = _merged(shape.defs, _endpoint(sync_mode="client_window"))
    vendor = Vendor(shape, shaped, tmp_path, defs=listing)
    shaped.reset_stats()

    skipped = vendor.tick("inventory_data", None)

    message = str(skipped.skip_message)
    assert "cannot be watched cheaply" in message and "daily schedule" in message
    assert "\n" not in message and shaped.request_count == 0


@pytest.mark.parametrize("paging", ["json_link", "header_link"])
def test_a_next_link_to_another_host_is_refused_before_anything_is_sent_to_it(
    paging: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shape = SHAPES[paging]
    _set_secrets(monkeypatch, shape)
    with RecordingServer() as elsewhere:
        sim = make_simulator(**shape.simulator, next_url_base=elsewhere.url)
        try:
            vendor = Vendor(shape, sim, tmp_path)
            result = vendor.load(DAYS[0])
        finally:
            sim.stop()
        received = list(elsewhere.requests)

    message = step_failure_message(result)
    assert f"points to {elsewhere.url.lower()}" in message.lower(), message
    assert "credentials go nowhere else" in message and "Nothing was loaded" in message
    assert received == [], "the other host received nothing"
    assert warehouse_rows(vendor.duckdb_path) == []


def test_the_transport_sends_nothing_to_another_host_whatever_asks(tmp_path: Path) -> None:
    """Below every paginator: a request of the vendor's session to another origin."""
    with RecordingServer() as elsewhere:
        client = VendorClient("http://127.0.0.1:9", Credentials(api_key=TEST_API_KEY), ApiOptions())
        with pytest.raises(ForeignHostError, match="credentials go nowhere else"):
            client.session.get(f"{elsewhere.url}/v1/resource", params={"api_key": TEST_API_KEY})
        received = list(elsewhere.requests)
    assert received == [] and client.stats.requests == 0


@pytest.mark.parametrize("shaped", [MORE_AUTH["http_basic"]], indirect=True)
def test_oauth2_client_credentials_trade_the_secret_at_a_local_token_endpoint(
    shaped: InventoryApiSimulator, tmp_path: Path
) -> None:
    """The simulator's oauth2 style: POST /oauth/token, then the access token as bearer."""
    shaped.deviate(**OAUTH2_SIMULATOR)
    vendor = Vendor(oauth2_shape(shaped.url), shaped, tmp_path)
    for day in (*DAYS, DAYS[0]):
        result = vendor.load(day)
        assert result.success, step_failure_message(result)

    assert warehouse_rows(vendor.duckdb_path, CONTRACT_COLUMNS) == rows_of(shaped, *DAYS)
    assert_key_in_no_file(tmp_path, secret=TEST_API_KEY)
    token_requests = [r for r in shaped.requests if r["_path"] == "/oauth/token"]
    listings = [r for r in shaped.requests if r["_path"] == "/v1/resource"]
    assert token_requests and len(token_requests) <= 3, "a token per run, not per page"
    assert {r["_auth"] for r in listings} == {"bearer"}


def _probe(vendor: Vendor):
    """The probe as `inventory-api-probe` runs it: the resource's variables read now."""
    endpoint_settings = vendor.settings.endpoints["inventory_data"]
    with vendor.vendor_api().process_config_and_initialize_cm() as vendor_api:
        report = probe(
            vendor_api.client(max_retries=1),
            endpoint_settings.endpoint("inventory_data", vendor.settings.api),
            endpoint_settings.sync_mode,
            vendor_api.auth_as_written(),
        )
    assert report.requests <= 20
    assert TEST_API_KEY not in report.as_text()
    return report


def _pasted(text: str) -> dict[str, Any]:
    """The defs.yaml fragment of the probe's printed report, as a user copies it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "(under attributes:" in line) + 2
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return yaml.safe_load("\n".join(line.removeprefix("  ") for line in lines[start:end]))


@_each(SHAPES)
def test_the_probe_recognizes_each_shape_and_its_fragment_loads_it(
    shape: Shape, shaped: InventoryApiSimulator, tmp_path: Path
) -> None:
    """From defs.yaml with only the vendor's auth: the probe's fragment (and the variables
    it names) pasted in, two partitions load exactly, and the probe is content."""
    before = Vendor(shape, shaped, tmp_path / "before", defs=shape.auth_only(), env={})
    report = _probe(before)
    assert not report.loads_correctly, "the contract's paging does not fit this vendor"
    assert report.needed == shape.env, report.findings

    fixed = Shape(shape.simulator, _pasted(report.as_text()), report.needed, shape.secret)
    vendor = Vendor(fixed, shaped, tmp_path / "after")
    for day in DAYS:
        result = vendor.load(day)
        assert result.success, step_failure_message(result)
    assert warehouse_rows(vendor.duckdb_path, CONTRACT_COLUMNS) == rows_of(shaped, *DAYS)
    assert _probe(vendor).loads_correctly, _probe(vendor).as_text()


@pytest.mark.parametrize("shaped", [SHAPES["page_number"]], indirect=True)
def test_on_a_401_the_probe_names_other_auth_styles_and_tries_none(
    shaped: InventoryApiSimulator, tmp_path: Path
) -> None:
    """The contract's query key against a vendor that wants a header."""
    shaped.reset_stats()
    report = _probe(Vendor(SHAPES["page_number"], shaped, tmp_path, defs={}))

    (auth,) = [f for f in report.findings if f.check == "auth"]
    assert not auth.ok and "HTTP 401" in auth.detail
    assert "location: header" in auth.detail and "bearer" in auth.detail
    assert not report.loads_correctly
    assert {request["_auth"] for request in shaped.requests} == {"query"}, "only as configured"
