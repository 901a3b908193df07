"""Checks on what the API returns, before dlt loads any of it.

Pages: a 2xx response must be JSON with a `data` list and an integer `total`,
and hold at most `limit` records; anything else raises with the endpoint and
the offset (a malformed page is retried, an oversized one is not).

Records: each must match the contract's types (`id` an integer, `quantity` an
integer, `updated_at` a timestamp, `unit_price` a decimal that fits the declared
scale without rounding, or null, ...) and hold
no text the warehouse would alter (a NUL character). A
record that does not is rejected: kept out of the table, counted, and handed
to the caller with the reason, never silently dropped. Values that are the
right type but implausible (a negative quantity) load and are flagged by the
asset checks instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problem(record: Any) -> str | None:
    """What makes `record` break the contract, or None."""
    if not isinstance(record, dict):
        return f"record: expected an object, got {_type_name(record)}"
    for name in ("id", "quantity"):
        value = record.get(name)
        if not _is_int(value):
            return f"{name}: expected integer, got {_type_name(value)} {value!r:.40}"
    if not isinstance(record.get("inventory_id"), str) or not record["inventory_id"]:
        return (
            f"inventory_id: expected non-empty text, got {_type_name(record.get('inventory_id'))}"
        )
    try:
        datetime.fromisoformat(str(record.get("updated_at")).replace("Z", "+00:00"))
    except ValueError:
        return f"updated_at: expected an ISO 8601 timestamp, got {record.get('updated_at')!r:.40}"
    price = record.get("unit_price")
    if price is not None and not _is_decimal(price):
        return (
            f"unit_price: expected a decimal of at most {settings.COLUMNS['unit_price']['scale']}"
            f" places, got {_type_name(price)} {price!r:.40}"
        )
    for name in OPTIONAL_TEXT:
        if record.get(name) is not None and not isinstance(record[name], str):
            return f"{name}: expected text or null, got {_type_name(record[name])}"
    for name, value in record.items():
        if isinstance(value, str) and "\x00" in value:
            # DuckDB and PostgreSQL text cannot hold NUL: it would be dropped silently.
            return f"{name}: contains a NUL character, which the warehouse cannot store"
    return None


def _is_decimal(value: Any) -> bool:
    """A finite decimal that fits the declared precision and scale without rounding."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return False
    if not number.is_finite():
        return False
    hint = settings.COLUMNS["unit_price"]
    _, digits, exponent = number.as_tuple()
    scale = max(0, -int(exponent))
    integer_digits = max(0, len(digits) + int(exponent))
    return scale <= hint["scale"] and integer_digits <= hint["precision"] - hint["scale"]


@dataclass
class RecordChecker:
    """A dlt filter step: passes valid records, collects the rest, counts duplicate ids.

    One checker serves one resource (one window), so its id set sees exactly
    that window; the counts go to the shared, locked `stats`.
    """

    stats: ExtractStats
    _seen: set[int] = field(default_factory=set)

    def __call__(self, record: Any) -> bool:
        problem = _problem(record)
        if problem is not None:
            record_id = record.get("id") if isinstance(record, dict) else None
            self.stats.record_rejection(Rejection(record_id, problem, record))
            return False
        if record["id"] in self._seen:
            self.stats.record_duplicate()
        self._seen.add(record["id"])
        return True
