"""The issue's targets, evaluated against the medians: PASS, FAIL or n/a.

A miss is reported, never raised: the benchmark measures the pipeline, it does
not gate it. Only a correctness failure makes the harness exit non-zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.results import Scenario, Variant
from benchmarks.settings import Sizes
from inventory_assets.sources.inventory_api.rate_limit import pace

# The bars of the performance issue (#17), as ratios measured in one run where possible.
CPU_RAW_SHARE = 1 / 2  # in-process project rows/s >= this x the raw loop's
CLI_RAW_SHARE = 1 / 3  # whole `dagster asset materialize` process rows/s >= this x raw
CLI_EMPTY_LIMIT_S = 2.5
IMPORT_LIMIT_S = 1.0
RSS_LIMIT_MB = 300.0  # the CLI run at the cpu size
RSS_GROWTH = 1.2  # the large size's peak RSS over the small size's
POSTGRES_SLOWDOWN = 1.15
BACKFILL_SLACK = 1.2  # x pages x latency / max_concurrency
QUOTA_SLACK = 1.1  # the free run's wall + this x requests / the limiter's pace at the quota


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
        *_cli_empty_targets(scenarios),
        *_memory_targets(scenarios, sizes),
        *_destination_targets(scenarios),
        *_backfill_targets(scenarios),
        *_client_window_targets(scenarios),
        *_quota_targets(scenarios),
    ]


def _at_least(name: str, value: float | None, bar: float | None, unit: str) -> Target:
    return Target(
        name,
        _number(value, unit),
        f">= {_number(bar, unit)}",
        _status(None if value is None or bar is None else value >= bar),
    )


def _at_most(name: str, value: float | None, bar: float | None, unit: str, digits: int) -> Target:
    return Target(
        name,
        _number(value, unit, digits),
        f"<= {_number(bar, unit, digits)}",
        _status(None if value is None or bar is None else value <= bar),
    )


def _rate(scenarios: dict[str, Scenario], scenario: str, name: str) -> float | None:
    variant = _variant(scenarios, scenario, name)
    return variant.rows_per_s if variant else None


def _wall(scenarios: dict[str, Scenario], scenario: str, name: str) -> float | None:
    variant = _variant(scenarios, scenario, name)
    return variant.wall_s if variant else None


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _cpu_targets(scenarios: dict[str, Scenario]) -> list[Target]:
    raw = _rate(scenarios, "cpu", "raw")
    project = _rate(scenarios, "cpu", "project")
    return [
        _at_least(
            "cpu: project (in process) rows/s >= raw/2",
            project,
            _times(raw, CPU_RAW_SHARE),
            " rows/s",
        ),
        _at_least(
            "cpu: project rows/s >= the tuned dlt-arrow peer",
            project,
            _rate(scenarios, "cpu", "dlt-arrow"),
            " rows/s",
        ),
        _at_least(
            "cpu: project-cli (whole process, checks included) rows/s >= raw/3",
            _rate(scenarios, "cpu", "project-cli"),
            _times(raw, CLI_RAW_SHARE),
            " rows/s",
        ),
    ]


def _cli_empty_targets(scenarios: dict[str, Scenario]) -> list[Target]:
    return [
        _at_most(
            f"cli-empty: an empty partition through the CLI <= {CLI_EMPTY_LIMIT_S} s",
            _wall(scenarios, "cli-empty", "cli-empty"),
            CLI_EMPTY_LIMIT_S,
            " s",
            2,
        ),
        _at_most(
            f"cli-empty: import inventory_assets.definitions <= {IMPORT_LIMIT_S} s",
            _wall(scenarios, "cli-empty", "import-definitions"),
            IMPORT_LIMIT_S,
            " s",
            2,
        ),
    ]


def _memory_targets(scenarios: dict[str, Scenario], sizes: Sizes) -> list[Target]:
    """The CLI's RSS comes from cpu's project-cli run; the growth from the memory scenario."""
    cli = _variant(scenarios, "cpu", "project-cli")
    return [
        _at_most(
            f"memory: peak RSS of the CLI run at {sizes.cpu:,} records <= {RSS_LIMIT_MB:.0f} MB",
            cli.peak_rss_mb if cli else None,
            RSS_LIMIT_MB,
            " MB",
            0,
        ),
        _growth(scenarios, sizes, "large", sizes.memory_large, "--with-1m"),
        _growth(scenarios, sizes, "huge", sizes.memory_huge, "--with-5m"),
    ]


def _growth(
    scenarios: dict[str, Scenario], sizes: Sizes, size: str, rows: int, flag: str
) -> Target:
    """Peak RSS of a bigger day against the small one's: flat memory allows RSS_GROWTH."""
    small = _variant(scenarios, "memory", "small")
    bigger = _variant(scenarios, "memory", size)
    small_rss = small.peak_rss_mb if small else None
    return Target(
        f"memory: RSS at {rows:,} records <= {RSS_GROWTH} x RSS at {sizes.memory_small:,} records",
        _number(bigger.peak_rss_mb, " MB") if bigger else f"not run ({flag})",
        f"<= {_number(_times(small_rss, RSS_GROWTH), ' MB')}",
        _status(
            None
            if bigger is None or small_rss is None
            else bigger.peak_rss_mb <= RSS_GROWTH * small_rss
        ),
    )


def _destination_targets(scenarios: dict[str, Scenario]) -> list[Target]:
    duckdb = _wall(scenarios, "destinations", "duckdb")
    return [
        _at_most(
            f"destinations: PostgreSQL wall <= {POSTGRES_SLOWDOWN} x DuckDB",
            _wall(scenarios, "destinations", "postgres"),
            _times(duckdb, POSTGRES_SLOWDOWN),
            " s",
            2,
        )
    ]


def _backfill_targets(scenarios: dict[str, Scenario]) -> list[Target]:
    project = _variant(scenarios, "backfill", "project")
    facts = scenarios["backfill"].facts if "backfill" in scenarios else {}
    limit, latency_s = facts.get("max_concurrency_default"), facts.get("latency_s")
    pages = project.requests if project else None
    bound = (
        None
        if pages is None or not limit or latency_s is None
        else BACKFILL_SLACK * pages * latency_s / limit
    )
    in_flight = project.max_in_flight if project else None
    return [
        _at_most(
            f"backfill: project wall <= {BACKFILL_SLACK} x requests x latency / max_concurrency",
            project.wall_s if project else None,
            bound,
            " s",
            2,
        ),
        _at_most("backfill: project max in flight <= max_concurrency", in_flight, limit, "", 0),
    ]


def _client_window_targets(scenarios: dict[str, Scenario]) -> list[Target]:
    """`client_window` pages the listing once per run, however many days the range holds."""
    project = _variant(scenarios, "client-window", "project")
    facts = scenarios["client-window"].facts if "client-window" in scenarios else {}
    return [
        _at_most(
            "client-window: requests per run <= the listing's pages + 1",
            project.requests if project else None,
            facts.get("listing_pages_plus_one"),
            "",
            0,
        )
    ]


def _quota_targets(scenarios: dict[str, Scenario]) -> list[Target]:
    """With the limit, the vendor's quota holds in every second, no 429, at about its pace."""
    project, free = _variant(scenarios, "quota", "project"), _variant(scenarios, "quota", "free")
    facts = scenarios["quota"].facts if "quota" in scenarios else {}
    per_second = facts.get("quota_per_second")
    requests = project.requests if project else None
    bar = (
        None
        if requests is None or not per_second or free is None or free.wall_s is None
        else free.wall_s + QUOTA_SLACK * requests / pace(per_second)
    )
    return [
        _at_most(
            "quota: the vendor's busiest second <= its quota",
            facts.get("busiest_second") if project else None,
            per_second,
            "",
            0,
        ),
        _at_most("quota: 429s answered", facts.get("refusals") if project else None, 0, "", 0),
        _at_most(
            f"quota: project wall <= free wall + {QUOTA_SLACK} x requests / the limit's pace",
            project.wall_s if project else None,
            bar,
            " s",
            2,
        ),
    ]
