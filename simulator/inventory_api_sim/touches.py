"""The arguments of a vendor-style update (touch_random) and the new values it draws.

The method and POST /_control/touch share these, so a test in this process
and a sensor in another see the same checks, messages and bounds; the
random deletes (delete_random, POST /_control/delete) take the same count and
day. Messages name the argument but never repeat its value, so they are safe
to send back.
"""

import datetime as dt
import random

from inventory_api_sim.timestamps import parse_timestamp

__all__ = [
    "MAX_QUANTITY",
    "MAX_TOUCH_COUNT",
    "SECONDS_PER_DAY",
    "check_counts",
    "other_quantity",
    "touch_day",
    "touch_moment",
]

MAX_TOUCH_COUNT = 10_000
MAX_QUANTITY = 2**31 - 1  # fits a 32-bit integer column downstream
SECONDS_PER_DAY = 86_400
_MAX_DRAWN_QUANTITY = 500  # a drawn quantity is 0..500, like the generated data


def touch_moment(at: dt.datetime | str | None) -> dt.datetime | None:
    """`at` as a datetime; a string is parsed as ISO 8601 (naive = UTC)."""
    if at is None or isinstance(at, dt.datetime):
        return at
    try:
        return parse_timestamp(at)
    except (ValueError, OverflowError):
        raise ValueError(
            "at must be an ISO 8601 UTC timestamp, e.g. 2026-11-20T08:30:00Z"
        ) from None


def touch_day(day: dt.date | str | None) -> dt.date | None:
    """`day` as a date; a string must be exactly YYYY-MM-DD."""
    if day is None or isinstance(day, dt.date):
        return day
    try:
        if len(day) == 10:  # fromisoformat also takes "20261101" and week dates
            return dt.date.fromisoformat(day)
    except ValueError:
        pass
    raise ValueError("day must be a date in YYYY-MM-DD form, e.g. 2026-11-20")


def check_counts(count: int, quantity: int | None) -> None:
    """Reject a count or quantity outside what the control endpoint accepts too."""
    if not 1 <= count <= MAX_TOUCH_COUNT:
        raise ValueError(f"count must be an integer between 1 and {MAX_TOUCH_COUNT}")
    if quantity is not None and not 0 <= quantity <= MAX_QUANTITY:
        raise ValueError(f"quantity must be an integer between 0 and {MAX_QUANTITY}")


def other_quantity(rng: random.Random, old: object) -> int:
    """A uniform draw from 0..500 without `old`, so every touch is a visible change.

    A quantity retyped to text (retype_field) differs from every draw already.
    """
    new = rng.randrange(_MAX_DRAWN_QUANTITY)
    return new + 1 if isinstance(old, int) and new >= old else new
