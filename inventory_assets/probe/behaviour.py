"""The vendor probe: how a vendor's API authenticates, pages and windows, in a few requests.

`probe` asks the vendor at most `MAX_REQUESTS` small questions through the
vendor's one client (the configured auth, the key masked in everything it
hands back), and answers with findings, the `defs.yaml` fragment that describes
this vendor's shape (auth, paginator, data selector, params) and the settings
it needs (`report.py`). It recognizes the paging style from the first page
(dlt's paginator detection, plus the shapes it does not look for: shape.py) and
confirms it by paging. It sends the credentials only the way the configuration
says; on a 401 it names the other ways vendors take a key, and tries none of
them. `inventory-api-probe` (`cli.py`) prints the report;
`inventory_api_probe_job` (`job.py`) shows it in the UI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import requests

from inventory_assets.probe.report import ProbeReport
from inventory_assets.probe.shape import Shape, recognize
from inventory_assets.sources.inventory_api import Endpoint, Window, to_api_timestamp
from inventory_assets.sources.inventory_api.changes import parse_api_timestamp
from inventory_assets.sources.inventory_api.client import Page, VendorClient
from inventory_assets.sources.inventory_api.errors import InventoryApiError
from inventory_assets.sources.inventory_api.validation import (
    ContractViolation,
    column_check,
    select,
    total_of,
)

MAX_REQUESTS = 20
CONFIRMING_PAGES = 3
# Names vendors give their window parameters, tried when ours are ignored.
WINDOW_PARAM_CANDIDATES = (
    ("updated_since", "updated_before"),
    ("modified_after", "modified_before"),
    ("updated_after", "updated_before"),
    ("updated_at_min", "updated_at_max"),
    ("since", "until"),
    ("from", "to"),
    ("start", "end"),
)
RATE_LIMIT_HEADERS = ("ratelimit", "rate-limit", "retry-after")
# What a vendor that refuses the configured credentials may want instead, in dlt's words.
OTHER_AUTH = (
    "the key in a header: auth: {type: api_key, location: header, name: X-API-Key}",
    "a bearer token: auth: {type: bearer, token: {env: ...}}",
    "HTTP basic: auth: {type: http_basic, username: ..., password: {env: ...}}",
    "OAuth2: auth: {type: oauth2_client_credentials, access_token_url: ..., ...}",
)


class ProbeBudgetExhausted(Exception):
    """The probe used its requests; the findings so far stand."""


@dataclass
class _Vendor:
    """The probe's view of the vendor: its client, the endpoint as understood so far, and a
    budget of requests it never exceeds."""

    client: VendorClient
    endpoint: Endpoint
    budget: int
    report: ProbeReport
    headers_seen: set[str] = field(default_factory=set)
    listed: list[Page] = field(default_factory=list)  # the pages that confirmed the style

    @property
    def used(self) -> int:
        return self.client.stats.requests

    def _allow(self, requests_: int = 1) -> int:
        left = self.budget - self.used
        if left < 1:
            raise ProbeBudgetExhausted
        return min(left, requests_)

    def raw(self, params: dict[str, Any], with_auth: bool = True) -> requests.Response:
        """One request of the endpoint, as it comes: no page checks, no paging."""
        self._allow()
        response = self.client.session.get(
            f"{self.client.base_url}{self.endpoint.path}",
            params={**dict(self.endpoint.params), **params},
            auth=self.client.auth if with_auth else None,
        )
        self._note(response)
        return response

    def pages(
        self, params: dict[str, Any], max_pages: int, endpoint: Endpoint | None = None
    ) -> list[Page]:
        """Pages of the endpoint (or `endpoint`) as its paginator pages, within the budget."""
        endpoint = endpoint or self.endpoint
        found = list(self.client.pages(endpoint, params, self._allow(max_pages)))
        self.report.requests = self.used
        return found

    def _note(self, response: requests.Response) -> None:
        self.report.requests = self.used
        self.headers_seen |= {
            name for name in response.headers if any(h in name.lower() for h in RATE_LIMIT_HEADERS)
        }

    def first_params(self) -> dict[str, Any]:
        """What the endpoint's paginator sends with its first page (offset's offset/limit)."""
        paginator = self.endpoint.paginator
        if not paginator.seeks:
            return {}
        return {
            paginator.option("offset_param", "offset"): 0,
            paginator.option("limit_param", "limit"): paginator.page_size,
        }

    def window_params(self, window: Window, names: tuple[str, str]) -> dict[str, str]:
        return {names[0]: to_api_timestamp(window.start), names[1]: to_api_timestamp(window.end)}


def _moment(record: Any, cursor: str) -> datetime | None:
    try:
        return parse_api_timestamp(str(record[cursor]))
    except (KeyError, TypeError, ValueError):
        return None


def _refusal(response: requests.Response, auth: dict[str, Any]) -> str:
    """A 401/403 as the user can act on it: what was sent, what else vendors want."""
    asked = response.headers.get("WWW-Authenticate", "").split(" ")[0]
    hint = f" The vendor's answer asks for {asked} auth." if asked else ""
    sent = ", ".join(f"{k} {v}" for k, v in auth.items() if k != "type" and isinstance(v, str))
    return (
        f"HTTP {response.status_code} with the configured {auth.get('type')} auth"
        f"{f' ({sent})' if sent else ''}: check its secret, or the way the vendor takes it.{hint}"
        f" Vendors take a key as {'; or '.join(OTHER_AUTH)}. The probe tries none of them with"
        " your key."
    )


def _check_auth(vendor: _Vendor, report: ProbeReport, auth: dict[str, Any]) -> Any:
    """The first page, with the credentials; and one request without, which must be refused."""
    response = vendor.raw(vendor.first_params())
    if response.status_code in (401, 403):
        report.add(
            "auth", False, _refusal(response, auth), f"refused (HTTP {response.status_code})"
        )
        return None
    response.raise_for_status()
    refused = vendor.raw({}, with_auth=False).status_code in (401, 403)
    kind = auth.get("type", "api_key")
    without = "refused without them" if refused else "no credentials needed?"
    report.add(
        "auth",
        True,
        f"the {kind} credentials are accepted; {without}",
        f"{kind} accepted; {'required' if refused else 'not required'}",
    )
    try:
        return response, response.json()
    except ValueError:
        report.add("response", False, "the first page is not JSON")
        return None


def _differences(shape: Shape, endpoint: Endpoint) -> list[str]:
    """How the recognized shape differs from the configured one (nothing: it loads)."""
    if not shape.recognized:
        return []
    found, configured = shape.as_paginator(), endpoint.paginator
    changes = []
    if shape.data_selector != endpoint.data_selector:
        changes.append(f"data_selector {shape.data_selector}")
    if found.type != configured.type:
        changes.append(f"paginator {found.type}")
    else:
        changes += [
            f"paginator {name}: {value!r}"
            for name, value in found.fields
            if configured.option(name) != value
        ]
    return changes


def _check_shape(vendor: _Vendor, report: ProbeReport, response: Any, payload: Any) -> None:
    """Recognize where the records are and how the listing pages; confirm it by paging."""
    shape = recognize(response, payload, vendor.endpoint.paginator)
    records = select(payload, shape.data_selector)
    count = len(records) if isinstance(records, list) else 0
    report.add(
        "data",
        isinstance(records, list),
        f"{count} records at `{shape.data_selector}`",
        f"records at `{shape.data_selector}`",
    )
    understood = replace(
        vendor.endpoint, data_selector=shape.data_selector, paginator=shape.as_paginator()
    )
    confirmed, detail = _confirm(vendor, understood)
    style = shape.paginator["type"]
    report.add(
        "paging style",
        confirmed,
        f"{style}: {shape.evidence}; {detail}",
        style if confirmed else f"{style}, not confirmed",
    )
    if confirmed:
        report.reshaped = _differences(shape, vendor.endpoint)
        vendor.endpoint = understood
    report.fragment = _fragment(vendor.endpoint, shape, report.fragment)


def _confirm(vendor: _Vendor, understood: Endpoint) -> tuple[bool, str]:
    """Page the listing a few pages in the recognized style: it must move on, not repeat."""
    try:
        pages = vendor.pages({}, CONFIRMING_PAGES, understood)
    except (InventoryApiError, requests.RequestException) as error:
        return False, f"paging that way failed: {error}"
    vendor.listed = pages
    key = understood.primary_key
    seen: list[Any] = []
    for page in pages:
        keys = [record.get(key) for record in page.records if isinstance(record, dict)]
        if set(keys) & set(seen):
            return False, "a later page repeated records of an earlier one"
        seen += keys
    vendor.report.requests = vendor.used
    more = " and more follow" if pages and pages[-1].more else ", the whole listing"
    return True, f"confirmed over {len(pages)} pages ({len(seen)} records{more})"


def _fragment(endpoint: Endpoint, shape: Shape, fragment: dict) -> dict:
    """The endpoint's part of defs.yaml (`auth` is already in `fragment`, from the probe)."""
    paginator = {
        name: value
        for name, value in shape.paginator.items()
        if value is not None or name == "total_path"
    }
    described: dict[str, Any] = {"data_selector": shape.data_selector, "paginator": paginator}
    if endpoint.params:
        described["params"] = dict(endpoint.params)
    return {**fragment, "endpoints": {endpoint.name: described}}


def _check_page_size(vendor: _Vendor, report: ProbeReport, first: list, total: int | None) -> None:
    asked = vendor.endpoint.paginator.page_size
    if asked is None:
        report.add(
            "page size honoured", True, f"{len(first)} records on the first page", "not asked"
        )
        return
    more = total is not None and total > len(first)
    if len(first) < asked and total is None and first:
        more = bool(vendor.client.seek(vendor.endpoint, {}, len(first), asked).records)
    if len(first) < asked and more:
        report.add(
            "page size honoured",
            True,
            f"asked {asked}, got {len(first)} while more remain: paging advances by what "
            "arrives, so nothing is lost",
            f"capped at {len(first)}",
        )
        report.suggested["INVENTORY_PAGE_SIZE"] = str(len(first))
    else:
        report.add("page size honoured", True, f"asked {asked}, got {len(first)}", "honoured")


def _check_total(vendor: _Vendor, report: ProbeReport, payload: Any) -> int | None:
    path = vendor.endpoint.paginator.total_path
    total = _total(payload, path)
    if not path:
        report.add("total present", True, "not used (no total_path)", "not used")
    elif total is None:
        report.add(
            "total present",
            True,
            f"no `{path}`: loads page until the last page, without the completeness check a"
            " total allows",
            "absent",
        )
        if vendor.endpoint.paginator.seeks:
            report.suggested["INVENTORY_TOTAL_PATH"] = ""
    else:
        report.add("total present", True, f"`{path}` = {total}", f"at `{path}`")
    return total


def _total(payload: Any, path: str | None) -> int | None:
    try:
        return total_of(payload, path)
    except ValueError:
        return None


def _a_day_with_data(vendor: _Vendor, records: list, total: int | None) -> Window | None:
    """The day of the newest record the probe can reach: it has data, and a vendor that
    ignores the window answers for it with the listing's oldest records instead."""
    newest = records[-1:]
    if vendor.endpoint.paginator.seeks and total and total > len(records):
        newest = vendor.client.seek(vendor.endpoint, {}, total - 1, 1).records or newest
    elif vendor.listed:
        newest = [r for page in vendor.listed for r in page.records][-1:]
    moments = [m for m in (_moment(r, vendor.endpoint.cursor_field) for r in newest) if m]
    if not moments:
        return None
    day = moments[-1].replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(day, day + timedelta(days=1))


def _honours(vendor: _Vendor, window: Window, names: tuple[str, str]) -> tuple[bool, Page | None]:
    """Whether a window asked with `names` comes back holding only records inside it."""
    pages = vendor.pages(vendor.window_params(window, names), 1)
    if not pages:
        return False, None
    moments = [_moment(r, vendor.endpoint.cursor_field) for r in pages[0].records]
    inside = all(m is not None and window.start <= m < window.end for m in moments)
    return bool(moments) and inside, pages[0]


def _check_window(
    vendor: _Vendor, report: ProbeReport, records: list, listing_total: int | None, mode: str
) -> None:
    window = _a_day_with_data(vendor, records, listing_total)
    if window is None:
        report.add("window parameters honoured", True, "no records to try a window on")
        return
    options = vendor.client.options
    ours = (options.window_start_param, options.window_end_param)
    honoured, page = _honours(vendor, window, ours)
    if honoured:
        report.add(
            "window parameters honoured",
            True,
            f"{ours[0]}/{ours[1]} filter the listing",
            f"honoured as {ours[0]}/{ours[1]}",
        )
        _check_total_in_window(vendor, report, window, ours, page, listing_total)
        return
    found = next(
        (
            names
            for names in WINDOW_PARAM_CANDIDATES
            if names != ours and _honours(vendor, window, names)[0]
        ),
        None,
    )
    if found:
        detail = f"{ours[0]}/{ours[1]} are ignored; {found[0]}/{found[1]} filter the listing"
        behaviour = f"{ours[0]}/{ours[1]} ignored; honoured as {found[0]}/{found[1]}"
        if mode == "window":
            report.needed |= {
                "INVENTORY_WINDOW_START_PARAM": found[0],
                "INVENTORY_WINDOW_END_PARAM": found[1],
            }
    else:
        detail = f"{ours[0]}/{ours[1]} are ignored and no common name works: filter in the client"
        behaviour = f"{ours[0]}/{ours[1]} ignored; no common name honoured"
        if mode == "window":
            report.needed["INVENTORY_SYNC_MODE"] = "client_window"
    report.add("window parameters honoured", mode != "window", detail, behaviour)


def _check_total_in_window(
    vendor: _Vendor,
    report: ProbeReport,
    window: Window,
    names: tuple[str, str],
    page: Page | None,
    listing_total: int | None,
) -> None:
    """A window whose total is the whole listing's: is its last record really there?"""
    windowed = page.total if page else None
    if windowed is None or listing_total is None or not vendor.endpoint.paginator.seeks:
        return
    if windowed == listing_total and windowed > 0:
        params = vendor.window_params(window, names)
        last = vendor.client.seek(vendor.endpoint, params, windowed - 1, 1).records
        if not last:
            report.add(
                "total consistent with the window",
                False,
                f"a day's total is {windowed}, the whole listing's, but its records end sooner",
                "counts the whole listing",
            )
            report.needed["INVENTORY_TOTAL_PATH"] = ""
            report.fragment["endpoints"][vendor.endpoint.name]["paginator"]["total_path"] = None
            return
    report.add(
        "total consistent with the window",
        True,
        f"a day's total is {windowed}",
        "counts the window",
    )


def _check_order(vendor: _Vendor, report: ProbeReport, records: list) -> None:
    key, cursor = vendor.endpoint.primary_key, vendor.endpoint.cursor_field
    again = [r for page in vendor.pages({}, 1) for r in page.records]
    same = [r.get(key) for r in again] == [r.get(key) for r in records]
    order = [(_moment(r, cursor), str(r.get(key))) for r in records]
    ordered = all(m is not None for m, _ in order) and order == sorted(order, key=lambda o: o[0])
    detail = (
        "the same page twice holds the same records" if same else "a page changed between two reads"
    )
    sorting = f"ordered by {cursor}" if ordered else f"not ordered by {cursor}"
    detail += f"; {sorting}"
    report.add("order stable", same, detail, f"{'stable' if same else 'unstable'}, {sorting}")


def _check_values(vendor: _Vendor, report: ProbeReport, records: list) -> None:
    endpoint = vendor.endpoint
    stamps = [str(r.get(endpoint.cursor_field)) for r in records]
    bad = [s for s in stamps if _moment({"c": s}, "c") is None]
    styles = sorted({_timestamp_style(s) for s in stamps if s not in bad})
    zones = sorted({style.split(",")[0] for style in styles})
    report.add(
        "timestamp format",
        not bad,
        f"unparsable: {bad[:3]}" if bad else f"ISO 8601 ({', '.join(styles) or 'none seen'})",
        "unparsable" if bad else f"ISO 8601 ({', '.join(zones) or 'none seen'})",
    )
    keys = [r.get(endpoint.primary_key) for r in records]
    kind = _key_kind(keys)
    report.add(
        "id type", all(_key_loads(endpoint, k) for k in keys), _describe_keys(kind, keys), kind
    )
    declared = {c.name for c in endpoint.columns}
    unknown = sorted({name for r in records for name in r} - declared)
    nested = sorted({name for r in records for name, v in r.items() if isinstance(v, dict | list)})
    report.add(
        "unknown fields",
        True,
        ", ".join(unknown) + " (loaded as new columns)" if unknown else "none",
        ", ".join(unknown) or "none",
    )
    report.add(
        "nested fields",
        True,
        ", ".join(nested) + " (kept as JSON)" if nested else "none",
        ", ".join(nested) or "none",
    )


def _timestamp_style(text: str) -> str:
    zone = (
        "Z"
        if text.endswith("Z")
        else ("offset" if "+" in text[10:] or "-" in text[10:] else "no zone")
    )
    return f"{zone}, fractions" if "." in text else zone


def _key_loads(endpoint: Endpoint, key: Any) -> bool:
    """Whether a load takes this key, by the same check a load makes."""
    try:
        column_check(endpoint.column(endpoint.primary_key))(key)
    except ContractViolation:
        return False
    return True


def _key_kind(keys: Iterable[Any]) -> str:
    """The JSON types of the keys, numeric text told apart from other text."""
    kinds = {type(k).__name__ for k in keys}
    if kinds == {"str"} and all(str(k).lstrip("-").isdigit() for k in keys):
        return "numeric strings"
    return ", ".join(sorted(kinds))


def _describe_keys(kind: str, keys: Iterable[Any]) -> str:
    sample = next(iter(keys), None)
    if kind == "numeric strings":
        return f'numeric strings (e.g. "{sample}"): coerced to integers, losslessly'
    return f"{kind} (e.g. {sample!r})"


def probe(
    client: VendorClient,
    endpoint: Endpoint,
    mode: str,
    auth: dict[str, Any],
    budget: int = MAX_REQUESTS,
) -> ProbeReport:
    """Ask the vendor at most `budget` small questions; say what its API does.

    `auth` is the configured auth as defs.yaml writes it (secrets as `{env: NAME}`):
    the fragment repeats it, and a refusal names it.
    """
    report = ProbeReport(url=client.base_url + endpoint.path, fragment={"api": {"auth": auth}})
    vendor = _Vendor(client, endpoint, budget, report)
    try:
        first = _check_auth(vendor, report, auth)
        if first is None:
            report.fragment = {}
            return report
        response, payload = first
        _check_shape(vendor, report, response, payload)
        listed = select(payload, vendor.endpoint.data_selector)
        records = [r for r in listed if isinstance(r, dict)] if isinstance(listed, list) else []
        total = _check_total(vendor, report, payload)
        _check_page_size(vendor, report, records, total)
        if mode != "full":  # a whole listing is never windowed
            _check_window(vendor, report, records, total, mode)
        _check_order(vendor, report, records)
        _check_values(vendor, report, records)
    except ProbeBudgetExhausted:
        report.add("budget", True, f"stopped after {budget} requests; the rest was not checked")
    report.requests = vendor.used
    seen = ", ".join(sorted(vendor.headers_seen)) or "none seen"
    # Retry-After comes with a refusal only: what the vendor announces is the rest.
    announced = sorted(h for h in vendor.headers_seen if h.lower() != "retry-after")
    report.add("rate-limit headers", True, seen, ", ".join(announced) or "none")
    return report
