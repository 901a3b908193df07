"""Deviations: the ways real vendors depart from the contract, switchable while serving.

A client is only robust if it has met vendors that ignore the time window or
know it by other names, leave `total` out or count it over everything, cap
pages below the `limit` asked for, send an empty page's data as null, send
integers as text or as floats, announce a rate limit or enforce one (quota.py),
or change records while a client pages; and vendors of other shapes, that page
by page number, cursor or next links (paging.py, with next links perhaps to
another host) and want the key elsewhere than in the query string (auth.py,
oauth.py). Each switch is a SimulatorConfig field whose default is the
contract, and InventoryApiSimulator.deviate (POST /_control/deviate) flips it on a running
simulator, so one test can watch a client meet the change mid-run.
moves_while_paging is a budget rather than a switch: the simulator spends it,
one move at a time, and the switches in force show what is left.
"""

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from inventory_api_sim.auth import AUTH_STYLES, QUERY_KEY
from inventory_api_sim.paging import PAGING_PARAMS, PAGING_STYLES
from inventory_api_sim.responses import Response

__all__ = [
    "CONTRACT_WINDOW_PARAMS",
    "NAMES",
    "RATE_LIMIT",
    "Deviations",
    "parse_switch",
    "rate_limited",
    "url_base",
    "window_pair",
]

CONTRACT_WINDOW_PARAMS = ("updated_since", "updated_before")
RATE_LIMIT = 1000  # what X-RateLimit-Limit announces; nothing is enforced
_RESERVED_PARAMS = PAGING_PARAMS | {QUERY_KEY}  # the window cannot take these names
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110)
_TRUE, _FALSE = frozenset({"true", "1", "on", "yes"}), frozenset({"false", "0", "off", "no"})
_NONE = frozenset({"", "none", "null"})


def _is_int(value: Any) -> bool:
    """True for an int that is not a bool (True is an int to Python, not to a vendor)."""
    return isinstance(value, int) and not isinstance(value, bool)


def window_pair(value: Any) -> tuple[str, str]:
    """Two different, non-empty parameter names for (since, before), as a tuple."""
    names = tuple(value) if isinstance(value, list | tuple) else ()
    if (
        len(names) != 2
        or not all(isinstance(name, str) and name for name in names)
        or names[0] == names[1]
        or _RESERVED_PARAMS & set(names)
    ):
        raise ValueError(
            "window_params must be two different parameter names other than api_key and the "
            f"paging parameters ({', '.join(sorted(PAGING_PARAMS))}), "
            "e.g. modified_after,modified_before"
        )
    return names  # type: ignore[return-value]


def _one_of(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}")


def url_base(value: Any) -> str | None:
    """next_url_base as scheme://host[:port] (http or https, nothing after); None stays None."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0..65535
    except (TypeError, ValueError, AttributeError):  # not a str, or not a URL
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path.strip("/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ValueError("next_url_base must be scheme://host[:port], e.g. http://127.0.0.1:9000")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Deviations:
    """The switches in force; the defaults are the contract (docs/inventory-api.md)."""

    ignore_window: bool = False  # serve and count every record, whatever the window asks
    window_params: tuple[str, str] = CONTRACT_WINDOW_PARAMS  # the only window names honoured
    omit_total: bool = False  # pages carry no "total"
    total_ignores_window: bool = False  # "total" counts every record; the data keeps the window
    page_cap: int | None = None  # at most this many records a page, whatever `limit` asks
    null_when_empty: bool = False  # a page without records says "data": null, not []
    numbers_as_strings: bool = False  # integer fields are sent as numeric text, "100296"
    integers_as_floats: bool = False  # integer fields are sent as integral floats, 100296.0
    rate_limit_headers: bool = False  # X-RateLimit-Limit and -Remaining on every API answer
    quota_per_second: int | None = None  # above this many requests a second: 429, Retry-After
    moves_while_paging: int = 0  # moves left; a later page of a bounded window spends one
    paging: str = "offset"  # the paging style (paging.py): offset is the contract's
    next_url_base: str | None = None  # scheme://host:port of next links; None: the simulator's
    auth: str = "query"  # where the key goes (auth.py): query is the contract's ?api_key=
    auth_header: str = "X-API-Key"  # the header the key goes in, in the header style

    def __post_init__(self) -> None:
        for switch in fields(self):
            if switch.type is bool and not isinstance(getattr(self, switch.name), bool):
                raise ValueError(f"{switch.name} must be true or false")
        object.__setattr__(self, "window_params", window_pair(self.window_params))
        for name in ("page_cap", "quota_per_second"):
            value = getattr(self, name)
            if value is not None and not (_is_int(value) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, or None for none")
        if not (_is_int(self.moves_while_paging) and self.moves_while_paging >= 0):
            raise ValueError("moves_while_paging must be an integer >= 0")
        _one_of("paging", self.paging, PAGING_STYLES)
        _one_of("auth", self.auth, AUTH_STYLES)
        if not (isinstance(self.auth_header, str) and _HEADER_NAME.fullmatch(self.auth_header)):
            raise ValueError("auth_header must be an HTTP header name, e.g. X-API-Key")
        object.__setattr__(self, "next_url_base", url_base(self.next_url_base))
        # One field cannot be sent as two types at once: refuse rather than pick one.
        if self.numbers_as_strings and self.integers_as_floats:
            raise ValueError("numbers_as_strings and integers_as_floats cannot both be on")

    @classmethod
    def from_config(cls, config: Any) -> "Deviations":
        """The switches a SimulatorConfig starts with (it has a field of each name)."""
        return cls(**{switch.name: getattr(config, switch.name) for switch in fields(cls)})

    def changed(self, **switches: Any) -> "Deviations":
        """These switches with some changed; ValueError names an unknown switch's choices."""
        if set(switches) - set(NAMES):
            raise ValueError(f"name must be one of {', '.join(NAMES)}")
        return replace(self, **switches)

    def as_json(self) -> dict[str, Any]:
        """The switches as JSON would carry them (window_params as a list)."""
        return {**asdict(self), "window_params": list(self.window_params)}


NAMES = tuple(switch.name for switch in fields(Deviations))


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise ValueError("value must be true or false for this switch")


def _limit(name: str) -> Callable[[str], int | None]:
    """The parser of a switch that is an integer >= 1 or none (page_cap, quota_per_second)."""

    def parse(text: str) -> int | None:
        if text.strip().lower() in _NONE:
            return None
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"value must be an integer >= 1, or none, for {name}") from None

    return parse


def _moves(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("value must be an integer >= 0 for moves_while_paging") from None


def _base(text: str) -> str | None:
    return None if text.strip().lower() in _NONE else text


# How the switches that are not true/false read their text; Deviations checks the values.
_PARSERS: dict[str, Callable[[str], Any]] = {
    "window_params": lambda text: tuple(text.split(",")),
    "page_cap": _limit("page_cap"),
    "quota_per_second": _limit("quota_per_second"),
    "moves_while_paging": _moves,
    "paging": str,
    "next_url_base": _base,
    "auth": str,
    "auth_header": str,
}


def parse_switch(name: str, text: str) -> Any:
    """A switch's value from query-string text (POST /_control/deviate?name=..&value=..).

    Messages name the switch, never the text: it may be a pasted secret.
    """
    if name not in NAMES:
        raise ValueError(f"name must be one of {', '.join(NAMES)}")
    return _PARSERS.get(name, _flag)(text)


def rate_limited(response: Response, used: int) -> Response:
    """`response` with the rate-limit headers after `used` requests since the last reset."""
    headers = (
        ("X-RateLimit-Limit", str(RATE_LIMIT)),
        ("X-RateLimit-Remaining", str(max(0, RATE_LIMIT - used))),
    )
    return replace(response, headers=response.headers + headers)
