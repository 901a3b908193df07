"""The issue's targets, evaluated against the medians: PASS, FAIL or n/a.

A miss is reported, never raised: the benchmark measures the pipeline, it does
not gate it. Only a correctness failure makes the harness exit non-zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.results import Scenario, Variant
from benchmarks.settings import Sizes

RSS_LIMIT_MB = 400.0


@dataclass(frozen=True)
class Target:
    """One target: what was measured, the bar, and whether it cleared it."""

    name: str
    measured: str
    bar: str
    status: str  # PASS, FAIL or n/a

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def _number(value: float | None, unit: str = "", digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def _variant(scenarios: dict[str, Scenario], scenario: str, name: str) -> Variant | None:
    found = scenarios.get(scenario)
    variant = found.variant(name) if found else None
    return variant if variant is not None and variant.available and variant.samples else None


def evaluate(scenarios: dict[str, Scenario], sizes: Sizes) -> list[Target]:
    """Every target, n/a where its scenario did not run or its variant is not available."""
    return [
        *_cpu_targets(scenarios),
        *_memory_targets(scenarios, sizes),
        *_backfill_targets(scenarios),
    ]


def _cpu_targets(scenarios: dict[str, Scenario]) -> list[Target]:
    project = _variant(scenarios, "cpu", "project")
    raw = _variant(scenarios, "cpu", "raw")
    plain = _variant(scenarios, "cpu", "plain-dlt")
    p = project.rows_per_s if project else None
    r = raw.rows_per_s if raw else None
    d = plain.rows_per_s if plain else None
    return [
        Target(
            "cpu: project rows/s >= raw/3",
            _number(p, " rows/s"),
            f">= {_number(r / 3 if r else None, ' rows/s')}",
            _status(None if p is None or r is None else p >= r / 3),
        ),
        Target(
            "cpu: project rows/s >= 4 x plain-dlt",
            _number(p, " rows/s"),
            f">= {_number(d * 4 if d else None, ' rows/s')}",
            _status(None if p is None or d is None else p >= 4 * d),
        ),
    ]


def _memory_targets(scenarios: dict[str, Scenario], sizes: Sizes) -> list[Target]:
    """The small size's RSS comes from the memory scenario, else from cpu's project run."""
    small = _variant(scenarios, "memory", "small") or _variant(scenarios, "cpu", "project")
    large = _variant(scenarios, "memory", "large")
    small_rss = small.peak_rss_mb if small else None
    large_rss = large.peak_rss_mb if large else None
    small_name = f"{small.records if small else sizes.memory_small:,} records"
    large_name = f"{sizes.memory_large:,} records"
    return [
        Target(
            f"memory: peak RSS at {small_name} < {RSS_LIMIT_MB:.0f} MB",
            _number(small_rss, " MB"),
            f"< {RSS_LIMIT_MB:.0f} MB",
            _status(None if small_rss is None else small_rss < RSS_LIMIT_MB),
        ),
        Target(
            f"memory: RSS at {large_name} <= 1.5 x RSS at {small_name}",
            _number(large_rss, " MB") if large else "not run (--with-1m)",
            f"<= {_number(small_rss * 1.5 if small_rss else None, ' MB')}",
            _status(
                None if large_rss is None or small_rss is None else large_rss <= 1.5 * small_rss
            ),
        ),
    ]


def _backfill_targets(scenarios: dict[str, Scenario]) -> list[Target]:
    sequential = _variant(scenarios, "backfill", "sequential")
    project = _variant(scenarios, "backfill", "project")
    seq_wall = sequential.wall_s if sequential else None
    wall = project.wall_s if project else None
    facts = scenarios["backfill"].facts if "backfill" in scenarios else {}
    limit = facts.get("max_concurrency_default")
    in_flight = project.max_in_flight if project else None
    seq_in_flight = sequential.max_in_flight if sequential else None
    return [
        Target(
            "backfill: project wall <= sequential/3",
            _number(wall, " s", 2),
            f"<= {_number(seq_wall / 3 if seq_wall else None, ' s', 2)}",
            _status(None if wall is None or seq_wall is None else wall <= seq_wall / 3),
        ),
        Target(
            "backfill: project max in flight <= max_concurrency",
            _number(in_flight),
            f"<= {_number(limit)}",
            _status(None if in_flight is None or limit is None else in_flight <= limit),
        ),
        Target(
            "backfill: sequential max in flight <= 1",
            _number(seq_in_flight),
            "<= 1",
            _status(None if seq_in_flight is None else seq_in_flight <= 1),
        ),
    ]
