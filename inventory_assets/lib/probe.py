"""The contract probe: how far a vendor's API keeps our contract, in a few requests.

`probe` asks the vendor a bounded number of questions (at most
`MAX_REQUESTS`), each a small request through the same session a load uses
(the key masked in everything it hands back), and answers with findings and
the settings this vendor needs. `inventory-api-probe` (`probe_cli.py`) prints
them; `inventory_api_probe_job` shows the same report in the UI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import requests

from inventory_assets.sources.inventory_api import ApiOptions, Endpoint, Window, to_api_timestamp
from inventory_assets.sources.inventory_api.changes import parse_api_timestamp
from inventory_assets.sources.inventory_api.http import build_session
from inventory_assets.sources.inventory_api.stats import ExtractStats
from inventory_assets.sources.inventory_api.validation import (
    ContractViolation,
    column_check,
    select,
)

MAX_REQUESTS = 20
# Names vendors give their window parameters, tried when ours are ignored.
WINDOW_PARAM_CANDIDATES = (
    ("updated_since", "updated_before"),
    ("modified_after", "modified_before"),
    ("updated_after", "updated_before"),
    ("since", "until"),
    ("from", "to"),
    ("start", "end"),
)
RATE_LIMIT_HEADERS = ("ratelimit", "rate-limit", "retry-after")


class ProbeBudgetExhausted(Exception):
    """The probe used its requests; the findings so far stand."""


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, whether it keeps the contract, how."""

    check: str
    ok: bool
    detail: str


@dataclass
class ProbeReport:
    """The findings, and the settings this vendor needs (those that differ from today's)."""

    url: str
    findings: list[Finding] = field(default_factory=list)
    needed: dict[str, str] = field(default_factory=dict)  # without these, loads are wrong
    suggested: dict[str, str] = field(default_factory=dict)  # these only save requests
    requests: int = 0

    @property
    def loads_correctly(self) -> bool:
        """Whether the current settings load this vendor exactly."""
        return not self.needed and all(f.ok for f in self.findings if f.check == "auth")

    def add(self, check: str, ok: bool, detail: str) -> None:
        self.findings.append(Finding(check, ok, detail))

    def settings_lines(self) -> list[str]:
        """What to paste: the settings this vendor needs, then the optional ones."""
        if self.needed:
            lines = ["This vendor needs these settings (paste them into the environment):"]
            lines += [f"{name}={value}" for name, value in sorted(self.needed.items())]
        else:
            lines = ["The current settings load this vendor correctly."]
        if self.suggested:
            lines.append("Optional, to save requests or say what the probe found:")
            lines += [f"{name}={value}" for name, value in sorted(self.suggested.items())]
        return lines

    def as_text(self) -> str:
        """The report as the console shows it: a table, then the settings to paste."""
        width = max(len(finding.check) for finding in self.findings)
        lines = [f"inventory-api-probe: {self.url} ({self.requests} requests)", ""]
        lines += [
            f"{finding.check:<{width}}  {'ok ' if finding.ok else 'NO '}  {finding.detail}"
            for finding in self.findings
        ]
        return "\n".join([*lines, "", *self.settings_lines()])

    def as_markdown(self) -> str:
        """The same report for the UI: a table, then the settings as a code block."""
        rows = [f"| {f.check} | {'ok' if f.ok else '**no**'} | {f.detail} |" for f in self.findings]
        table = ["| check | result | detail |", "| --- | --- | --- |", *rows]
        settings = "\n".join(self.settings_lines())
        return "\n".join(
            [f"`{self.url}`, {self.requests} requests", "", *table, "", "```", settings, "```"]
        )


@dataclass
class _Vendor:
    """The probe's client: counts its requests and stops at the budget."""

    base_url: str
    api_key: str
    endpoint: Endpoint
    options: ApiOptions
    budget: int
    report: ProbeReport
    headers_seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        options = replace(self.options, max_retries=1, backoff_factor=0.5)
        self._session = build_session(self.base_url, self.api_key, ExtractStats(), options)
        self._url = self.base_url.rstrip("/") + self.endpoint.path

    def get(self, with_key: bool = True, **params: Any) -> requests.Response:
        if self.report.requests >= self.budget:
            raise ProbeBudgetExhausted
        self.report.requests += 1
        if with_key:
            params[self.options.api_key_param] = self.api_key
        response = self._session.get(self._url, params=params)
        self.headers_seen |= {
            name for name in response.headers if any(h in name.lower() for h in RATE_LIMIT_HEADERS)
        }
        return response

    def page(self, **params: Any) -> dict[str, Any]:
        params.setdefault("limit", self.options.page_size)
        response = self.get(**params)
        response.raise_for_status()
        return response.json()

    def records(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        data = select(payload, self.endpoint.data_selector)
        return (
            [record for record in data if isinstance(record, dict)]
            if isinstance(data, list)
            else []
        )

    def total(self, payload: dict[str, Any]) -> int | None:
        value = select(payload, self.options.total_path) if self.options.total_path else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def window_params(self, window: Window, names: tuple[str, str]) -> dict[str, str]:
        return {names[0]: to_api_timestamp(window.start), names[1]: to_api_timestamp(window.end)}


def _moment(record: dict[str, Any], cursor: str) -> datetime | None:
    try:
        return parse_api_timestamp(str(record[cursor]))
    except (KeyError, ValueError):
        return None


def _check_auth(vendor: _Vendor, report: ProbeReport) -> dict[str, Any] | None:
    """The first page, with the key; and one request without it, which must be refused."""
    response = vendor.get(offset=0, limit=vendor.options.page_size)
    if response.status_code in (401, 403):
        report.add(
            "auth", False, f"HTTP {response.status_code} with the key: check INVENTORY_API_KEY"
        )
        return None
    response.raise_for_status()
    refused = vendor.get(with_key=False, offset=0, limit=1).status_code in (401, 403)
    report.add(
        "auth",
        True,
        "the key is accepted" + ("; refused without it" if refused else "; no key needed?"),
    )
    try:
        return response.json()
    except ValueError:
        report.add("response", False, "the first page is not JSON")
        return None


def _check_page_size(vendor: _Vendor, report: ProbeReport, first: list, total: int | None) -> None:
    asked = vendor.options.page_size
    more = total is not None and total > len(first)
    if len(first) < asked and total is None and first:
        more = bool(vendor.records(vendor.page(offset=len(first))))
    if len(first) < asked and more:
        report.add(
            "page size honoured",
            True,
            f"asked {asked}, got {len(first)} while more remain: paging advances by what "
            "arrives, so nothing is lost",
        )
        report.suggested["INVENTORY_PAGE_SIZE"] = str(len(first))
    else:
        report.add("page size honoured", True, f"asked {asked}, got {len(first)}")


def _check_total(vendor: _Vendor, report: ProbeReport, payload: dict[str, Any]) -> int | None:
    total = vendor.total(payload)
    if not vendor.options.total_path:
        report.add("total present", True, "not used (INVENTORY_TOTAL_PATH is empty)")
    elif total is None:
        report.add(
            "total present",
            True,
            f"no `{vendor.options.total_path}`: loads page until an empty page, without the "
            "completeness check a total allows",
        )
        report.suggested["INVENTORY_TOTAL_PATH"] = ""
    else:
        report.add("total present", True, f"`{vendor.options.total_path}` = {total}")
    return total


def _a_day_with_data(
    vendor: _Vendor, records: list[dict[str, Any]], total: int | None
) -> Window | None:
    """The day of the listing's newest record: it has data, and a vendor that ignores
    the window answers for it with the listing's oldest records instead."""
    newest = records[-1:]
    if total and total > len(records):
        newest = vendor.records(vendor.page(offset=total - 1, limit=1)) or newest
    moments = [m for m in (_moment(r, vendor.endpoint.cursor_field) for r in newest) if m]
    if not moments:
        return None
    day = moments[-1].replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(day, day + timedelta(days=1))


def _honours(vendor: _Vendor, window: Window, names: tuple[str, str]) -> tuple[bool, dict]:
    """Whether a window asked with `names` comes back holding only records inside it."""
    payload = vendor.page(offset=0, **vendor.window_params(window, names))
    records = vendor.records(payload)
    moments = [_moment(r, vendor.endpoint.cursor_field) for r in records]
    inside = all(m is not None and window.start <= m < window.end for m in moments)
    return bool(records) and inside, payload


def _check_window(
    vendor: _Vendor, report: ProbeReport, records: list, listing_total: int | None, mode: str
) -> None:
    window = _a_day_with_data(vendor, records, listing_total)
    if window is None:
        report.add("window parameters honoured", True, "no records to try a window on")
        return
    ours = (vendor.options.window_start_param, vendor.options.window_end_param)
    honoured, payload = _honours(vendor, window, ours)
    if honoured:
        report.add("window parameters honoured", True, f"{ours[0]}/{ours[1]} filter the listing")
        _check_total_in_window(vendor, report, window, ours, payload, listing_total)
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
        if mode == "window":
            report.needed |= {
                "INVENTORY_WINDOW_START_PARAM": found[0],
                "INVENTORY_WINDOW_END_PARAM": found[1],
            }
    else:
        detail = f"{ours[0]}/{ours[1]} are ignored and no common name works: filter in the client"
        if mode == "window":
            report.needed["INVENTORY_SYNC_MODE"] = "client_window"
    report.add("window parameters honoured", mode != "window", detail)


def _check_total_in_window(
    vendor: _Vendor,
    report: ProbeReport,
    window: Window,
    names: tuple[str, str],
    payload: dict[str, Any],
    listing_total: int | None,
) -> None:
    """A window whose total is the whole listing's: is its last record really there?"""
    windowed = vendor.total(payload)
    if windowed is None or listing_total is None:
        return
    if windowed == listing_total and windowed > 0:
        params = vendor.window_params(window, names)
        last = vendor.records(vendor.page(offset=windowed - 1, limit=1, **params))
        if not last:
            report.add(
                "total consistent with the window",
                False,
                f"a day's total is {windowed}, the whole listing's, but its records end sooner",
            )
            report.needed["INVENTORY_TOTAL_PATH"] = ""
            return
    report.add("total consistent with the window", True, f"a day's total is {windowed}")


def _check_order(vendor: _Vendor, report: ProbeReport, records: list) -> None:
    key, cursor = vendor.endpoint.primary_key, vendor.endpoint.cursor_field
    again = vendor.records(vendor.page(offset=0))
    same = [r.get(key) for r in again] == [r.get(key) for r in records]
    order = [(_moment(r, cursor), str(r.get(key))) for r in records]
    ordered = all(m is not None for m, _ in order) and order == sorted(order, key=lambda o: o[0])
    detail = (
        "the same page twice holds the same records" if same else "a page changed between two reads"
    )
    detail += f"; ordered by {cursor}" if ordered else f"; not ordered by {cursor}"
    report.add("order stable", same, detail)


def _check_values(vendor: _Vendor, report: ProbeReport, records: list) -> None:
    endpoint = vendor.endpoint
    stamps = [str(r.get(endpoint.cursor_field)) for r in records]
    bad = [s for s in stamps if _moment({"c": s}, "c") is None]
    styles = sorted({_timestamp_style(s) for s in stamps if s not in bad})
    report.add(
        "timestamp format",
        not bad,
        f"unparsable: {bad[:3]}" if bad else f"ISO 8601 ({', '.join(styles) or 'none seen'})",
    )
    keys = [r.get(endpoint.primary_key) for r in records]
    report.add("id type", all(_key_loads(endpoint, k) for k in keys), _describe_keys(keys))
    declared = {c.name for c in endpoint.columns}
    unknown = sorted({name for r in records for name in r} - declared)
    nested = sorted({name for r in records for name, v in r.items() if isinstance(v, dict | list)})
    report.add(
        "unknown fields",
        True,
        ", ".join(unknown) + " (loaded as new columns)" if unknown else "none",
    )
    report.add("nested fields", True, ", ".join(nested) + " (kept as JSON)" if nested else "none")


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


def _describe_keys(keys: Iterable[Any]) -> str:
    kinds = {type(k).__name__ for k in keys}
    sample = next(iter(keys), None)
    if kinds == {"str"} and all(str(k).lstrip("-").isdigit() for k in keys):
        return f'numeric strings (e.g. "{sample}"): coerced to integers, losslessly'
    return f"{', '.join(sorted(kinds))} (e.g. {sample!r})"


def probe(
    base_url: str,
    api_key: str,
    endpoint: Endpoint,
    options: ApiOptions,
    mode: str,
    budget: int = MAX_REQUESTS,
) -> ProbeReport:
    """Ask the vendor at most `budget` small questions; say what its API does."""
    report = ProbeReport(url=base_url.rstrip("/") + endpoint.path)
    vendor = _Vendor(base_url, api_key, endpoint, options, budget, report)
    try:
        payload = _check_auth(vendor, report)
        if payload is None:
            return report
        records = vendor.records(payload)
        total = _check_total(vendor, report, payload)
        _check_page_size(vendor, report, records, total)
        _check_window(vendor, report, records, total, mode)
        _check_order(vendor, report, records)
        _check_values(vendor, report, records)
    except ProbeBudgetExhausted:
        report.add("budget", True, f"stopped after {budget} requests; the rest was not checked")
    if vendor.headers_seen:
        report.add("rate-limit headers", True, ", ".join(sorted(vendor.headers_seen)))
    else:
        report.add("rate-limit headers", True, "none seen")
    return report
