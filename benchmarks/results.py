"""The numbers of one run: samples per variant, their medians, and each scenario's ratios."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Sample:
    """One measurement, in its own fresh process."""

    wall_s: float  # the timed work (in-process variants) or the whole process (CLI, imports)
    process_s: float  # the child process from start to exit, as the harness saw it
    rows: int  # rows verified: received (raw) or counted in the warehouse table
    peak_rss_mb: float | None
    requests: int | None  # resource requests the server answered
    max_in_flight: int | None  # most resource requests the server was answering at once
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float | None:
        return self.rows / self.wall_s if self.rows and self.wall_s > 0 else None


@dataclass(eq=False)  # compared by identity, so a scenario's plan can key on variants
class Variant:
    """One way of doing the scenario's work, measured `repeats` times."""

    name: str
    description: str
    records: int
    samples: list[Sample] = field(default_factory=list)
    available: bool = True
    note: str = ""
    has_rate: bool = True  # False where rows/s means nothing (empty partition, imports)

    def _median(self, value: Callable[[Sample], float | int | None]) -> float | None:
        values = [v for v in map(value, self.samples) if v is not None]
        return statistics.median(values) if values else None

    @property
    def wall_s(self) -> float | None:
        return self._median(lambda s: s.wall_s)

    @property
    def wall_range(self) -> tuple[float, float] | None:
        walls = [s.wall_s for s in self.samples]
        return (min(walls), max(walls)) if walls else None

    @property
    def rows_per_s(self) -> float | None:
        return self._median(lambda s: s.rows_per_s) if self.has_rate else None

    @property
    def peak_rss_mb(self) -> float | None:
        return self._median(lambda s: s.peak_rss_mb)

    @property
    def requests(self) -> float | None:
        return self._median(lambda s: s.requests)

    @property
    def max_in_flight(self) -> int | None:
        """The highest over all repeats: a limit must hold every time, not on median."""
        values = [s.max_in_flight for s in self.samples if s.max_in_flight is not None]
        return max(values) if values else None

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "records": self.records,
            "available": self.available,
            "note": self.note,
            "median": {
                "wall_s": self.wall_s,
                "rows_per_s": self.rows_per_s,
                "peak_rss_mb": self.peak_rss_mb,
                "requests": self.requests,
                "max_in_flight": self.max_in_flight,
            },
            "samples": [asdict(s) | {"rows_per_s": s.rows_per_s} for s in self.samples],
        }


@dataclass
class Scenario:
    """The variants of one scenario, measured interleaved, and the ratios between them."""

    name: str
    title: str
    variants: dict[str, Variant]
    ratios: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # e.g. the default max_concurrency

    def variant(self, name: str) -> Variant | None:
        return self.variants.get(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "variants": {name: v.to_json() for name, v in self.variants.items()},
            "ratios": self.ratios,
            "notes": self.notes,
            "facts": self.facts,
        }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator
