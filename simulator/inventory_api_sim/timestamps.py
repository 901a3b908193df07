"""The API's one time format, ISO 8601 UTC, and the sortable keys made from it.

Records, query parameters and touches all speak this format, so it is parsed
and printed in one place: a window bound and a record time must compare alike.
"""

import datetime as dt

__all__ = ["format_timestamp", "instant_key", "key_moment", "parse_timestamp"]


def parse_timestamp(text: str) -> dt.datetime:
    """Parse an ISO 8601 instant or date as aware UTC; naive input is taken as UTC.

    Accepts "Z" and "+00:00" (also a "+" that a hand-built query string turned
    into a space) and plain dates, which mean midnight UTC.
    """
    text = text.strip()
    if "T" in text and " " in text:
        text = text.replace(" ", "+")
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def format_timestamp(moment: dt.datetime) -> str:
    """Format a moment as the API does: UTC, ISO 8601, "Z" suffix.

    Whole seconds stay short ("2026-11-02T13:45:12Z"); microseconds are kept
    when present so a record touched at an exact instant keeps that instant.
    Naive datetimes are taken as UTC, the contract's only time zone.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    spec = "seconds" if moment.microsecond == 0 else "microseconds"
    return moment.isoformat(timespec=spec) + "Z"


def instant_key(moment: dt.datetime) -> str:
    """Fixed-width naive UTC text that sorts like time, so keys compare as strings."""
    naive = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return naive.isoformat(timespec="microseconds")


def key_moment(key: str) -> dt.datetime:
    """The aware UTC moment an instant_key stands for."""
    return dt.datetime.fromisoformat(key).replace(tzinfo=dt.UTC)
