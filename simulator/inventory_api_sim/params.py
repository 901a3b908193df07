"""Query-string parameters, for the vendor API and the control endpoints alike.

A bad value is answered with 400 and a message that names the parameter but
never repeats the value: a misplaced api key must not come back in a body.
"""

from typing import TypeVar
from urllib.parse import parse_qs

from inventory_api_sim.timestamps import instant_key, parse_timestamp

__all__ = ["BadRequest", "first_values", "int_param", "time_param"]

_Default = TypeVar("_Default", int, None)


class BadRequest(ValueError):
    """A parameter the contract does not allow; its message goes to the client."""


def first_values(query: str) -> dict[str, str]:
    """Each parameter's first value; blank values are kept, as "limit=" is a mistake to report."""
    return {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}


def int_param(
    params: dict[str, str], name: str, default: _Default, low: int, high: int | None = None
) -> int | _Default:
    """The integer `name` within low..high (no upper bound if None), or `default` if absent."""
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise BadRequest(f"{name} must be an integer {bounds}")
    return value


def time_param(params: dict[str, str], name: str) -> str | None:
    """The timestamp `name` as an instant_key, to compare with record keys; None if absent."""
    text = params.get(name)
    if text is None:
        return None
    try:
        return instant_key(parse_timestamp(text))
    except (ValueError, OverflowError):  # OverflowError: offsets at datetime.min/max
        raise BadRequest(
            f"{name} must be an ISO 8601 UTC timestamp, e.g. 2026-11-01T00:00:00Z"
        ) from None
