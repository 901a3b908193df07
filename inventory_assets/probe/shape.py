"""A vendor's shape, recognized from one page: where its records are and how it pages.

dlt's paginator detection (`dlt.sources.helpers.rest_client.detector`) finds
`Link` headers, next URLs, cursors and page counts in a response; a has-more
flag, offset paging and a count of records it does not look for, so those are
recognized here, by the same kind of key patterns. What comes out is in dlt's
vocabulary (a paginator `type` and its fields, a data selector), ready to be
confirmed by paging and written into `defs.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from dlt.sources.helpers.rest_client.detector import (
    cursor_paginator_detector,
    find_response_page_data,
    find_total_pages_path,
    header_links_detector,
    json_links_detector,
)
from requests import Response

from inventory_assets.sources.inventory_api.contract import Paginator

HAS_MORE = re.compile(r"^(has_?more(_\w+)?|more(_pages?)?|has_next(_page)?)$", re.IGNORECASE)
COUNT = re.compile(r"^(total|count|total_count|totalcount|total_results|total_items)$", re.I)
DEFAULT_LIMIT = 100  # an offset page's size where nothing says otherwise: the contract's
PAGE = re.compile(r"^(page|current_page|page_number)$", re.IGNORECASE)


@dataclass(frozen=True)
class Shape:
    """How a vendor's pages look: the data selector, the paginator, and how it was told."""

    data_selector: str
    paginator: dict[str, Any]  # dlt's config: {"type": ..., fields...}
    evidence: str
    records_total_path: str | None = None  # where a page counts its records, if anywhere
    recognized: bool = True  # False: nothing in the page says, the configuration is kept
    extra: dict[str, Any] = field(default_factory=dict)

    def as_paginator(self) -> Paginator:
        """The endpoint's paginator of this shape (the source's description)."""
        config = dict(self.paginator)
        kind = config.pop("type")
        total = None if kind == "page_number" else config.pop("total_path", None)
        return Paginator(kind, tuple(config.items()), total)


def _paths(payload: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) of the page's objects, shallow first, never inside lists."""
    if not isinstance(payload, dict):
        return
    nested = []
    for key, value in payload.items():
        yield (*path, key), value
        if isinstance(value, dict):
            nested.append(((*path, key), value))
    for inner_path, inner in nested:
        yield from _paths(inner, inner_path)


def _find(payload: Any, pattern: re.Pattern, kind: type | tuple[type, ...]) -> str | None:
    for path, value in _paths(payload):
        if pattern.match(path[-1]) and isinstance(value, kind) and not isinstance(value, bool):
            return ".".join(path)
    return None


def _flag(payload: Any) -> str | None:
    for path, value in _paths(payload):
        if HAS_MORE.match(path[-1]) and isinstance(value, bool | str):
            return ".".join(path)
    return None


def data_selector(payload: Any) -> str:
    """Where the page's records are: dlt's guess (`data`, `items`, `$` for a bare list)."""
    path, _ = find_response_page_data(payload)
    return ".".join(path) if path != ("$",) else "$"


def recognize(response: Response, payload: Any, configured: Paginator) -> Shape:
    """The shape one page shows; where it shows nothing, the configured paginator.

    What the page does not show of a recognized paginator (an offset page's
    `limit`), and the configured count of records, keep their configured values
    where the style is the configured one.
    """
    shape = _recognized(response, payload, configured)
    kind = shape.paginator["type"]
    if kind == configured.type:
        merged = {"type": kind, **dict(configured.fields), **shape.paginator}
        if kind != "page_number":  # the configured count stands: the probe checks it
            merged["total_path"] = configured.total_path
        shape = replace(shape, paginator=merged)
    elif kind == "offset":
        shape = replace(shape, paginator={**shape.paginator, "limit": DEFAULT_LIMIT})
    return shape


def _recognized(response: Response, payload: Any, configured: Paginator) -> Shape:
    selector = data_selector(payload)
    count = _find(payload, COUNT, int)
    if header_links_detector(response)[0] is not None:
        return Shape(selector, {"type": "header_link", "total_path": count}, "a Link header", count)
    link = json_links_detector(response)[0] if isinstance(payload, dict) else None
    if link is not None:
        next_path = str(link.next_url_path)
        paginator = {"type": "json_link", "next_url_path": next_path, "total_path": count}
        return Shape(selector, paginator, f"a next-page URL at `{next_path}`", count)
    cursor = cursor_paginator_detector(response)[0] if isinstance(payload, dict) else None
    if cursor is not None:
        cursor_path = str(cursor.cursor_path)
        paginator = {"type": "cursor", "cursor_path": cursor_path, "total_path": count}
        return Shape(selector, paginator, f"a next-page cursor at `{cursor_path}`", count)
    return _numbered(payload, selector, count, configured)


def _numbered(payload: Any, selector: str, count: str | None, configured: Paginator) -> Shape:
    """Pages by number (a has-more flag or a page count) or by offset, from the page's keys."""
    has_more = _flag(payload)
    pages_path, _ = find_total_pages_path(payload) if isinstance(payload, dict) else (None, None)
    page = _find(payload, PAGE, int)
    if has_more or pages_path:
        base = _value(payload, page) if page else configured.option("base_page", 0)
        paginator = {
            "type": "page_number",
            "base_page": base if isinstance(base, int) else 0,
            "page_param": page.rsplit(".", 1)[-1] if page else "page",
            "total_path": ".".join(pages_path) if pages_path else None,
            "has_more_path": has_more,
        }
        told = f"a has-more flag at `{has_more}`" if has_more else "a page count"
        return Shape(selector, paginator, f"page numbers and {told}", count)
    if isinstance(payload, dict) and "offset" in payload:
        paginator = {"type": "offset", "total_path": count}
        return Shape(selector, paginator, "an `offset` in the page", count)
    kept = {"type": configured.type, **dict(configured.fields)}
    if configured.type != "page_number":
        kept["total_path"] = configured.total_path
    return Shape(selector, kept, "nothing in the page says", count, recognized=False)


def _value(payload: Any, path: str) -> Any:
    for part in path.split("."):
        payload = payload.get(part) if isinstance(payload, dict) else None
    return payload
