"""Paging styles: how other vendors ask for the pages of a window, and how they shape them.

The contract pages by offset. Other vendors number their pages, hand out a
cursor, or link to the next page from a header or from the body, and a client
is only portable if it has met each. Every style serves the same window in the
same (updated_at, primary key) order, bent alike by the other deviations
(ignore_window, window_params, page_cap, the retyping ones, null_when_empty
for the records' list); only the paging and the envelope differ:

    offset       ?offset=O&limit=L    {"data": [...], "total": N, "offset": O, "limit": L}
    page_number  ?page=P&per_page=N   {"items": [...], "page_context":
                                       {"page": P, "per_page": N, "has_more_page": true}}
    cursor       ?cursor=C&limit=L    {"data": [...], "next_cursor": "..." | null}
    header_link  ?page=P&per_page=N   [...]  and, while more follow, Link: <URL>; rel="next"
    json_link    ?page=P&page_size=N  {"count": N, "next": URL | null, "previous": URL | null,
                                       "results": [...]}

Pages are 1-based (default 1), sizes 1..100 (default 100). A capped vendor
(page_cap) numbers its pages by the size it serves, and page_number says so in
per_page. Only offset and json_link (`count`) report a total, so omit_total,
total_ignores_window and total_delta touch those two only.

A cursor is keyset-style, as real cursor APIs are: opaque urlsafe base64 of
the last served record's sort key, so the next page starts strictly after that
key, whatever moved in between. It holds the position only: the client repeats
the window parameters on every request. Next and previous URLs are absolute,
on the simulator's own base URL (or next_url_base), with the request's own
parameters but the page changed and never the api key, even when the request
sent one: a client that follows them adds its credentials itself, and must not
send them to another host.
"""

import base64
import json
import math
from bisect import bisect_right
from functools import partial
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from inventory_api_sim.auth import QUERY_KEY
from inventory_api_sim.pages import Page
from inventory_api_sim.params import BadRequest, int_param
from inventory_api_sim.records import Key, PrimaryKey
from inventory_api_sim.timestamps import instant_key, key_moment

__all__ = [
    "DEFAULT_LIMIT",
    "LINKED_STYLES",
    "MAX_LIMIT",
    "PAGING_PARAMS",
    "PAGING_STYLES",
    "CursorKey",
    "Links",
    "cursor_offset",
    "dress",
    "encode_cursor",
    "position",
]

OFFSET, PAGE_NUMBER, CURSOR, HEADER_LINK, JSON_LINK = PAGING_STYLES = (
    "offset",
    "page_number",
    "cursor",
    "header_link",
    "json_link",
)
LINKED_STYLES = frozenset({HEADER_LINK, JSON_LINK})
# Every style's parameters; none of them can name a window bound (window_params).
PAGING_PARAMS = frozenset({"offset", "limit", "page", "per_page", "page_size", "cursor"})
MAX_LIMIT = 100
DEFAULT_LIMIT = 100
_SIZE_PARAM = {
    PAGE_NUMBER: "per_page",
    CURSOR: "limit",
    HEADER_LINK: "per_page",
    JSON_LINK: "page_size",
}
_BAD_CURSOR = "cursor must be a next_cursor from this listing"

CursorKey = tuple[str, PrimaryKey]  # (instant_key of updated_at, primary key): a sort key


def position(
    params: dict[str, str], style: str, cap: int | None, key_type: type
) -> tuple[int, int, CursorKey | None]:
    """(offset, limit, cursor key) as `style` reads its parameters; BadRequest for a bad one.

    A cursor request's offset is 0 until its key finds it (cursor_offset).
    """
    if style == OFFSET:
        offset = int_param(params, "offset", 0, 0)
        return offset, int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT), None
    size = int_param(params, _SIZE_PARAM[style], DEFAULT_LIMIT, 1, MAX_LIMIT)
    if style == CURSOR:
        cursor = params.get("cursor")
        return 0, size, None if cursor is None else _decode_cursor(cursor, key_type)
    size = size if cap is None else min(size, cap)
    return (int_param(params, "page", 1, 1) - 1) * size, size, None


def encode_cursor(key: Key) -> str:
    """The opaque cursor of a record's sort key."""
    text = json.dumps(key[:2], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode()


def _is_time_key(text: str) -> bool:
    """An instant_key as records.py makes them, or "" (raw records without a valid time)."""
    try:
        return not text or instant_key(key_moment(text)) == text
    except ValueError:
        return False


def _decode_cursor(text: str, key_type: type) -> CursorKey:
    """The sort key a cursor holds; BadRequest, without the text, for anything else."""
    try:
        time_key, primary_key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        valid = isinstance(time_key, str) and type(primary_key) is key_type
    except (ValueError, TypeError):  # not base64, not JSON, not a pair
        valid = False
    if not (valid and _is_time_key(time_key)):
        raise BadRequest(_BAD_CURSOR)
    return time_key, primary_key


def cursor_offset(keys: list[Key], timeless: int, low: int, high: int, after: CursorKey) -> int:
    """How many records of the window sort at or before `after`: where its next page starts.

    The window is keys[:timeless] then keys[low:high] (Page); every raw
    sequence of the same sort key is at or before it, as a keyset vendor sees ties.
    """
    bound = (*after, math.inf)
    return min(bisect_right(keys, bound), timeless) + bisect_right(keys, bound, low, high) - low


class Links(NamedTuple):
    """Where the pages of one request are: base URL, path and query as the request sent it."""

    base: str  # scheme://host:port
    path: str
    query: str

    def to(self, page: int) -> str:
        """The absolute URL of page `page`: the request's parameters, the page changed, no key."""
        pairs = parse_qsl(self.query, keep_blank_values=True)
        kept = [(name, str(page) if name == "page" else value) for name, value in pairs]
        kept = [pair for pair in kept if pair[0] != QUERY_KEY]
        if all(name != "page" for name, _ in kept):
            kept.append(("page", str(page)))
        return f"{self.base}{self.path}?{urlencode(kept)}"


def _json(value: str | None) -> bytes:
    return json.dumps(value).encode()


def _numbered_page(page: Page, data: bytes | None) -> bytes:
    more = b"true" if page.has_more else b"false"
    context = b'"page_context":{"page":%d,"per_page":%d,"has_more_page":%b}}' % (
        page.offset // page.limit + 1,
        page.limit,
        more,
    )
    return (b"{" if data is None else b'{"items":%b,' % data) + context


def _cursor_page(next_cursor: str | None, page: Page, data: bytes | None) -> bytes:
    tail = b'"next_cursor":%b}' % _json(next_cursor)
    return (b"{" if data is None else b'{"data":%b,' % data) + tail


def _bare_page(page: Page, data: bytes | None) -> bytes:
    """The records themselves; a page without them (serve_next no_data) is an empty object."""
    return b"{}" if data is None else data


def _linked_page(
    next_url: str | None, previous: str | None, page: Page, data: bytes | None
) -> bytes:
    count = b'"count":%d,' % page.total if page.show_total else b""
    links = b'"next":%b,"previous":%b' % (_json(next_url), _json(previous))
    return b"{" + count + links + (b"" if data is None else b',"results":%b' % data) + b"}"


def _next_cursor(page: Page, keys: list[Key]) -> str | None:
    """The cursor after the page's last served record; None when no record follows."""
    if not page.has_more:
        return None
    return encode_cursor(keys[page.index_position(page.offset + page.served - 1)])


def dress(page: Page, style: str, keys: list[Key], links: Links | None) -> None:
    """Give `page` the envelope (and Link header) of `style`; offset keeps the contract's.

    `keys` are the index's, under the lock the page is a view under; `links`
    are given for the LINKED_STYLES.
    """
    if style == PAGE_NUMBER:
        page.envelope = _numbered_page
    elif style == CURSOR:
        page.envelope = partial(_cursor_page, _next_cursor(page, keys))
    elif links is not None:
        number = page.offset // page.limit + 1
        next_url = links.to(number + 1) if page.has_more else None
        if style == HEADER_LINK:
            page.envelope = _bare_page
            page.headers = () if next_url is None else (("Link", f'<{next_url}>; rel="next"'),)
        else:
            previous = links.to(number - 1) if number > 1 else None
            page.envelope = partial(_linked_page, next_url, previous)
