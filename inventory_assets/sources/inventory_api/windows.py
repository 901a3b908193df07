"""Time windows `[start, end)` in UTC, and the API's timestamp format: no dlt here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta


@dataclass(frozen=True)
class Window:
    """A half-open time window `[start, end)` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware (UTC)")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} must be after its start {self.start}")

    def days(self) -> list[Window]:
        """The window cut at UTC midnights (a partition range into its partitions)."""
        parts: list[Window] = []
        start = self.start
        while start < self.end:
            midnight = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=UTC)
            parts.append(Window(start, min(midnight, self.end)))
            start = parts[-1].end
        return parts


def to_api_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the form the contract documents."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
