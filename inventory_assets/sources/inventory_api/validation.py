"""Checks on what the API returns, before dlt loads any of it.

Pages: a 2xx response must be JSON with a list at the endpoint's data selector
(`null` on an empty page is taken as the empty list) and, if it has a total, a
non-negative integer one, and hold at most `limit` records; anything else
raises with the endpoint and the offset (a malformed page is retried, an
oversized one is not). A page without a total is fine: the paginator then
pages until an empty page.

Records: each must match its endpoint's declared columns (an integer is an
integer, a timestamp parses, a decimal fits the declared scale without
rounding, a column that is not nullable holds a value, ...) and hold no text
the warehouse would alter (a NUL character). An integer sent as a numeric
string (`"100296"`) or as an integral JSON number (`3212.0`, as many
serializers write integers) is converted, since nothing is lost; `120.5` is
not. A record that does not is rejected: kept out of the table, counted, and
handed to the caller with the reason, never silently dropped. A record that
does leaves with its timestamps and decimals parsed. Values of the right type
but implausible (a negative quantity) load and are flagged by the asset checks
instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import requests

from inventory_assets.sources.inventory_api.columnar.arrow_types import arrow_type
from inventory_assets.sources.inventory_api.columnar.keys import KeyLog
from inventory_assets.sources.inventory_api.contract import Column, Endpoint
from inventory_assets.sources.inventory_api.errors import (
    MalformedPageError,
    PageContractError,
    WindowIgnoredError,
    where,
)
from inventory_assets.sources.inventory_api.stats import ExtractStats, Rejection


def _requested(response: requests.Response, name: str, default: int) -> int:
    values = parse_qs(urlsplit(response.url).query).get(name)
    return int(values[0]) if values else default


ROOT = "$"  # the data selector of a page that is a bare list of records


def select(payload: Any, path: str) -> Any:
    """The value at a dotted path (`data`, `result.items`; `$`: the page itself), or None."""
    if path == ROOT:
        return payload
    for part in path.split("."):
        if not isinstance(payload, dict):
            return None
        payload = payload.get(part)
    return payload


def total_of(payload: Any, total_path: str | None) -> int | None:
    """The page's total, or None when the vendor gives none (or none is configured).

    A numeric string is taken as the number; anything else that is not a
    non-negative integer raises a ValueError.
    """
    value = select(payload, total_path) if total_path else None
    if value is None:
        return None
    if type(value) is str and value.isdigit():
        return int(value)
    if type(value) is not int or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return value


def page_checker(endpoint: Endpoint, stats: ExtractStats | None = None) -> Callable[..., None]:
    """A response hook that refuses a malformed 2xx page of `endpoint` (the session retries
    it, as for a load) and hands later readers the page it decoded (`response.json()`).

    With `stats` (a load's), it also refuses a page of more records than it asked for
    and records each page in `stats`: the resource's first page announces its total.
    """
    paginator = endpoint.paginator
    limit_param = paginator.option("limit_param", "limit") if paginator.seeks else None
    first = True

    def check_page(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        nonlocal first
        if not response.ok:
            return
        try:
            payload = _valid_payload(response, endpoint.data_selector, paginator.total_path)
        except MalformedPageError:
            if stats is not None:
                stats.record_malformed_page()
            raise
        # dlt reads the page twice more (data and total): parse it only once.
        response.json = lambda **_: payload  # type: ignore[method-assign]
        if stats is None:
            return
        data = select(payload, endpoint.data_selector)
        if limit_param is not None:
            limit = _requested(response, limit_param, paginator.page_size or len(data))
            if len(data) > limit:
                raise PageContractError(
                    f"The inventory API returned {len(data)} records at {where(response)}, more "
                    f"than the requested limit of {limit}; offsets would no longer be reliable."
                )
        stats.record_page(first, total_of(payload, paginator.total_path), len(data))
        first = False

    return check_page


def _decoded(response: requests.Response) -> Any:
    """The page's JSON, by orjson (a fifth of a load's CPU with the standard decoder).

    What orjson refuses (text that is not UTF-8, NaN, integers beyond 64 bits)
    goes to requests' own decoder, which reads it as before or raises.
    """
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def _valid_payload(response: requests.Response, selector: str, total_path: str | None) -> Any:
    """The page's JSON, if it has a list at `selector` and a valid total.

    `"data": null` on a page whose total is 0 (or absent) is an empty page, as some
    vendors write an empty window; the payload then holds `[]` there, so every
    reader sees one shape. A `null` with records announced is malformed.
    """
    try:
        payload = _decoded(response)
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise MalformedPageError(
            f"The inventory API returned a page that is not JSON ({kind}) at "
            f"{where(response)}: {response.text[:120]!r}"
        ) from None
    try:
        total = total_of(payload, total_path)
    except ValueError:
        raise MalformedPageError(
            f"The inventory API returned a page without a valid `{total_path}` at "
            f"{where(response)} (got {select(payload, total_path)!r})."
        ) from None
    data = select(payload, selector)
    if data is None and not total and _holds_null(payload, selector):
        _replace(payload, selector, [])
    elif not isinstance(data, list):
        raise MalformedPageError(
            f"The inventory API returned a page without a `{selector}` list "
            f"at {where(response)} (got {type(data).__name__})."
        )
    return payload


def _holds_null(payload: Any, path: str) -> bool:
    """Whether `path` is present in `payload` and null (not merely missing)."""
    if path == ROOT:
        return False
    *parents, last = path.split(".")
    parent = select(payload, ".".join(parents)) if parents else payload
    return isinstance(parent, dict) and last in parent and parent[last] is None


def _replace(payload: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    parent = select(payload, ".".join(parents)) if parents else payload
    parent[last] = value


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


JSON_TYPES = {str: "text", int: "integer", float: "number", bool: "boolean", dict: "object"}


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, in the contract's words."""
    return "null" if value is None else JSON_TYPES.get(type(value), "array")


class ContractViolation(ValueError):
    """A record that breaks the contract; the message is the reason kept with it.

    A field of the wrong JSON type also says which (`column`, `expected`,
    `seen`): that is what schema drift of a declared column looks like.
    """

    def __init__(
        self, reason: str, column: str | None = None, expected: str | None = None, seen: Any = None
    ) -> None:
        super().__init__(reason)
        self.column, self.expected = column, expected
        self.seen = None if column is None else json_type(seen)


def _wrong_type(column: Column, expected: str, value: Any, json_expected: str) -> ContractViolation:
    return ContractViolation(
        f"{column.name}: expected {expected}, got {_type_name(value)} {value!r:.40}",
        column.name,
        json_expected,
        value,
    )


_NUMERIC = re.compile(r"^-?[0-9]{1,18}$")


_LARGEST_INTEGER = 2**63  # the warehouse's bigint


def _integer(column: Column, value: Any) -> int:
    # `type(...) is`: JSON gives exact types, and a bool must not pass for an int.
    if type(value) is int:
        return value
    if type(value) is str and _NUMERIC.match(value):
        return int(value)  # "100296": a vendor that quotes its numbers; nothing is lost
    if type(value) is float and value.is_integer() and abs(value) < _LARGEST_INTEGER:
        return int(value)  # 3212.0: how many serializers write an integer; nothing is lost
    raise _wrong_type(column, "integer", value, "integer")


def _text(column: Column, value: Any) -> str:
    if type(value) is not str or (not value and not column.nullable):
        expected = "text or null" if column.nullable else "non-empty text"
        raise ContractViolation(
            f"{column.name}: expected {expected}, got {_type_name(value)}",
            column.name,
            "text",
            value,
        )
    return value


def _boolean(column: Column, value: Any) -> bool:
    if type(value) is not bool:
        raise _wrong_type(column, "boolean", value, "boolean")
    return value


def _double(column: Column, value: Any) -> float:
    if type(value) not in (int, float):
        raise _wrong_type(column, "number", value, "number")
    return float(value)


def _timestamp(column: Column, value: Any) -> datetime:
    """An ISO 8601 timestamp in UTC; one without an offset is taken as UTC, as dlt does."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ContractViolation(
            f"{column.name}: expected an ISO 8601 timestamp, got {value!r:.40}",
            column.name,
            "text",
            value,
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _decimal(column: Column, value: Any) -> Decimal:
    """A finite decimal that fits the declared precision and scale without rounding."""
    number = _parse_decimal(value)
    precision, scale = column.precision or 38, column.scale or 0
    if number is not None and number.is_finite():
        _, digits, exponent = number.as_tuple()
        places = max(0, -int(exponent))
        integer_digits = max(0, len(digits) + int(exponent))
        if places <= scale and integer_digits <= precision - scale:
            return number
    raise ContractViolation(
        f"{column.name}: expected a decimal of at most {scale}"
        f" places, got {_type_name(value)} {value!r:.40}",
        column.name,
        "text",
        value,
    )


def _parse_decimal(value: Any) -> Decimal | None:
    """JSON text or a number as a Decimal (through its text, so 0.1 stays 0.1)."""
    if type(value) not in (str, int, float):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


_PARSERS: dict[str, Callable[[Column, Any], Any]] = {
    "bigint": _integer,
    "text": _text,
    "bool": _boolean,
    "double": _double,
    "timestamp": _timestamp,
    "decimal": _decimal,
}

Check = Callable[[Any], Any]


def column_check(column: Column) -> Check:
    """The check of one declared column: its value, typed, or a ContractViolation."""
    parse = _PARSERS[column.type]

    def check(value: Any) -> Any:
        if value is None:
            if column.nullable:
                return None
            raise ContractViolation(
                f"{column.name}: expected {_expected_word(column)}, got null",
                column.name,
                _expected_word(column),
                None,
            )
        return parse(column, value)

    return check


def _expected_word(column: Column) -> str:
    return {"bigint": "integer", "text": "non-empty text"}.get(column.type, column.type)


def record_validator(endpoint: Endpoint) -> Callable[[Any], dict[str, Any]]:
    """A function that returns the record typed, or raises a ContractViolation.

    Nothing is changed unless every check passes, so a rejected record is kept
    as it arrived.
    """
    checks = [(column.name, column_check(column)) for column in endpoint.columns]

    def validate(record: Any) -> dict[str, Any]:
        if type(record) is not dict:
            raise ContractViolation(f"record: expected an object, got {_type_name(record)}")
        typed = {name: check(record.get(name)) for name, check in checks}
        for name, value in record.items():
            if type(value) is str and "\x00" in value:
                # DuckDB and PostgreSQL text cannot hold NUL: it would be dropped silently.
                raise ContractViolation(
                    f"{name}: contains a NUL character, which the warehouse cannot store"
                )
        record.update(typed)
        return record

    return validate


@dataclass(frozen=True)
class WindowScope:
    """The window a resource asked for, and who keeps records to it.

    `vendor_filters`: the API was sent the window (`params`), so a record
    outside it means the API ignored the window: refuse. Otherwise (the
    `client_window` mode) the listing is paged whole and records outside are
    left out here.
    """

    window: Any  # a Window; typed loosely to keep this module free of the source's imports
    vendor_filters: bool
    params: dict[str, str] = field(default_factory=dict)

    def contains(self, moment: datetime) -> bool:
        return self.window.start <= moment < self.window.end


def _window_ignored(scope: WindowScope, endpoint: Endpoint, record: dict) -> WindowIgnoredError:
    sent = " and ".join(f"{name}={value}" for name, value in scope.params.items())
    return WindowIgnoredError(
        f"The inventory API ignored the window: asked for [{scope.window.start.isoformat()}, "
        f"{scope.window.end.isoformat()}) with {sent}, it sent {endpoint.primary_key} "
        f"{record[endpoint.primary_key]} with {endpoint.cursor_field} "
        f"{record[endpoint.cursor_field].isoformat()}. Nothing was loaded. "
        f"{WindowIgnoredError.FIX}"
    )


@dataclass
class RecordChecker:
    """Passes valid records (typed) of its window, collects the rest, counts duplicate keys.

    One checker serves one resource (one window, or the whole listing), so its
    key log holds exactly that window's keys; `stats` reads every checker's log
    and takes the other counts, locked.
    """

    stats: ExtractStats
    endpoint: Endpoint
    scope: WindowScope | None = None
    keys: KeyLog = field(init=False)

    def __post_init__(self) -> None:
        self._validate = record_validator(self.endpoint)
        self._key = self.endpoint.primary_key
        self._cursor = self.endpoint.cursor_field
        self.keys = KeyLog(arrow_type(self.endpoint.column(self._key)))
        self.stats.track_keys(self.keys)

    def __call__(self, record: Any) -> bool:
        """Whether `record` keeps the contract and belongs here; if so, it leaves typed."""
        try:
            self._validate(record)
        except ContractViolation as violation:
            if not self._elsewhere(record):
                self._reject(record, violation)
            return False
        self.keys.add(record[self._key])
        return self._in_scope(record)

    def _reject(self, record: Any, violation: ContractViolation) -> None:
        record_id = record.get(self._key) if isinstance(record, dict) else None
        drift = (violation.column, violation.expected, violation.seen)
        self.stats.record_rejection(Rejection(record_id, str(violation), record, *drift))

    def _in_scope(self, record: dict) -> bool:
        scope = self.scope
        if scope is None or scope.contains(record[self._cursor]):
            return True
        if scope.vendor_filters:
            raise _window_ignored(scope, self.endpoint, record)
        self.stats.record_outside_window()
        return False

    def _elsewhere(self, record: Any) -> bool:
        """A broken record a client-side window would leave out: another run's to report."""
        scope = self.scope
        if scope is None or scope.vendor_filters or not isinstance(record, dict):
            return False
        try:
            moment = _timestamp(self.endpoint.column(self._cursor), record.get(self._cursor))
        except (ContractViolation, StopIteration):
            return False
        return not scope.contains(moment)
