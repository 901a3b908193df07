"""Checks on what the API returns, before dlt loads any of it.

Pages: a 2xx response must be JSON with a `data` list and an integer `total`,
and hold at most `limit` records; anything else raises with the endpoint and
the offset (a malformed page is retried, an oversized one is not).

Records: each must match the contract's types (`id` an integer, `quantity` an
integer, `updated_at` a timestamp, `unit_price` a decimal that fits the declared
scale without rounding, or null, ...) and hold no text the warehouse would
alter (a NUL character). A record that does not is rejected: kept out of the
table, counted, and handed to the caller with the reason, never silently
dropped. A record that does leaves with its timestamp and price parsed. Values
that are the right type but implausible (a negative quantity) load and are
flagged by the asset checks instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from inventory_assets.sources.inventory_api import settings
from inventory_assets.sources.inventory_api.errors import (
    MalformedPageError,
    PageContractError,
    where,
)
from inventory_assets.sources.inventory_api.stats import ExtractStats, Rejection

OPTIONAL_TEXT = ("product_name", "sku", "warehouse")


def _requested(response: requests.Response, name: str, default: int) -> int:
    values = parse_qs(urlsplit(response.url).query).get(name)
    return int(values[0]) if values else default


def page_checker(stats: ExtractStats):
    """A response hook that validates each 2xx page and records it in `stats`."""

    def check_page(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        try:
            payload = _valid_payload(response)
        except MalformedPageError:
            stats.record_malformed_page()
            raise
        limit = _requested(response, "limit", settings.PAGE_SIZE)
        data = payload[settings.DATA_SELECTOR]
        if len(data) > limit:
            raise PageContractError(
                f"The inventory API returned {len(data)} records at {where(response)}, more "
                f"than the requested limit of {limit}; offsets would no longer be reliable."
            )
        stats.record_page(
            _requested(response, "offset", 0), payload[settings.TOTAL_PATH], len(data)
        )
        # dlt reads the page twice more (data and total): parse it only once.
        response.json = lambda **_: payload  # type: ignore[method-assign]

    return check_page


def _valid_payload(response: requests.Response) -> dict[str, Any]:
    """The page's JSON, if it has a `data` list and a valid `total`."""
    try:
        payload = response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise MalformedPageError(
            f"The inventory API returned a page that is not JSON ({kind}) at "
            f"{where(response)}: {response.text[:120]!r}"
        ) from None
    data = payload.get(settings.DATA_SELECTOR) if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise MalformedPageError(
            f"The inventory API returned a page without a `{settings.DATA_SELECTOR}` list "
            f"at {where(response)} (got {type(data).__name__})."
        )
    total = payload.get(settings.TOTAL_PATH)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise MalformedPageError(
            f"The inventory API returned a page without a valid `total` at "
            f"{where(response)} (got {total!r})."
        )
    return payload


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


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


JSON_TYPES = {str: "text", int: "integer", float: "number", bool: "boolean", dict: "object"}


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, in the contract's words."""
    return "null" if value is None else JSON_TYPES.get(type(value), "array")


def _wrong_type(name: str, expected: str, value: Any) -> ContractViolation:
    return ContractViolation(
        f"{name}: expected {expected}, got {_type_name(value)} {value!r:.40}", name, expected, value
    )


def _checked(record: Any) -> dict[str, Any]:
    """`record`, with `updated_at` parsed to a UTC datetime and `unit_price` to a Decimal.

    Parsing here, once, is what the check needs anyway, and spares the Arrow
    conversion a second pass. `type(...) is` rather than `isinstance`: JSON
    gives exact types, and a bool must not pass for an int. Nothing is changed
    unless every check passes, so a rejected record is kept as it arrived.
    """
    if type(record) is not dict:
        raise ContractViolation(f"record: expected an object, got {_type_name(record)}")
    for name in ("id", "quantity"):
        value = record.get(name)
        if type(value) is not int:
            raise _wrong_type(name, "integer", value)
    inventory_id = record.get("inventory_id")
    if type(inventory_id) is not str or not inventory_id:
        raise ContractViolation(
            f"inventory_id: expected non-empty text, got {_type_name(inventory_id)}",
            "inventory_id",
            "text",
            inventory_id,
        )
    moment = _timestamp(record.get("updated_at"))
    price = record.get("unit_price")
    price = None if price is None else _decimal(price)
    for name in OPTIONAL_TEXT:
        value = record.get(name)
        if value is not None and type(value) is not str:
            raise ContractViolation(
                f"{name}: expected text or null, got {_type_name(value)}", name, "text", value
            )
    for name, value in record.items():
        if type(value) is str and "\x00" in value:
            # DuckDB and PostgreSQL text cannot hold NUL: it would be dropped silently.
            raise ContractViolation(
                f"{name}: contains a NUL character, which the warehouse cannot store"
            )
    record["updated_at"], record["unit_price"] = moment, price
    return record


def _timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp in UTC; one without an offset is taken as UTC, as dlt does."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ContractViolation(
            f"updated_at: expected an ISO 8601 timestamp, got {value!r:.40}",
            "updated_at",
            "text",
            value,
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _decimal(value: Any) -> Decimal:
    """A finite decimal that fits the declared precision and scale without rounding."""
    hint = settings.COLUMNS["unit_price"]
    number = _parse_decimal(value)
    if number is not None and number.is_finite():
        _, digits, exponent = number.as_tuple()
        scale = max(0, -int(exponent))
        integer_digits = max(0, len(digits) + int(exponent))
        if scale <= hint["scale"] and integer_digits <= hint["precision"] - hint["scale"]:
            return number
    raise ContractViolation(
        f"unit_price: expected a decimal of at most {hint['scale']}"
        f" places, got {_type_name(value)} {value!r:.40}",
        "unit_price",
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


@dataclass
class RecordChecker:
    """Passes valid records (typed), collects the rest, counts duplicate ids.

    One checker serves one resource (one window), so its id set sees exactly
    that window; the counts go to the shared, locked `stats`.
    """

    stats: ExtractStats
    _seen: set[int] = field(default_factory=set)

    def __call__(self, record: Any) -> bool:
        """Whether `record` keeps the contract; if it does, it leaves typed (`_checked`)."""
        try:
            _checked(record)
        except ContractViolation as violation:
            record_id = record.get("id") if isinstance(record, dict) else None
            drift = (violation.column, violation.expected, violation.seen)
            self.stats.record_rejection(Rejection(record_id, str(violation), record, *drift))
            return False
        if record["id"] in self._seen:
            self.stats.record_duplicate(record["id"])
        self._seen.add(record["id"])
        return True
