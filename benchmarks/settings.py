"""What the scenarios run against: data sizes, days, latency, and the options of one run.

Kept apart from the code so the numbers in the report can be traced to one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = PROJECT_ROOT / "benchmarks"

SCENARIOS = (
    "cpu",
    "backfill",
    "client-window",
    "quota",
    "cli-empty",
    "reconcile",
    "memory",
    "destinations",
)
# All of them: `destinations` needs a PostgreSQL server and reports itself skipped, with
# the reason, where none answers, so one run still evaluates every target it can.
DEFAULT_SCENARIOS = SCENARIOS

START = dt.date(2026, 11, 1)
DAY = "2026-11-01"  # the cpu and memory partition: every record of the one-day data set
EMPTY_DAY = "2026-10-01"  # before the data set starts: a partition with nothing in it
BACKFILL_DAYS = 30
BACKFILL_LATENCY_MS = 20.0
SEED = 42
PAGE_SIZE = 100
# The quota scenario: a vendor that answers 429 above this many requests a second.
QUOTA_PER_SECOND = 20
QUOTA_DAYS = 5
QUOTA_ROWS = 5_000

# Where the destinations scenario creates its scratch databases (trust auth on this machine).
POSTGRES_ADMIN_URL_ENV = "INVENTORY_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"

CHILD_TIMEOUT_SECONDS = 1800.0  # a hung child must not hang the harness


@dataclass(frozen=True)
class Sizes:
    """Record counts of each scenario's simulator."""

    cpu: int
    backfill: int
    memory_small: int
    memory_large: int
    memory_huge: int  # the on-demand day (--with-5m): memory must not grow past the large one's


FULL_SIZES = Sizes(
    cpu=100_000,
    backfill=30_000,
    memory_small=100_000,
    memory_large=1_000_000,
    memory_huge=5_000_000,
)
QUICK_SIZES = Sizes(
    cpu=10_000, backfill=10_000, memory_small=10_000, memory_large=100_000, memory_huge=500_000
)


@dataclass(frozen=True)
class Options:
    """One invocation of the harness, as parsed from the command line."""

    scenarios: tuple[str, ...]
    repeats: int
    quick: bool
    with_1m: bool
    with_5m: bool
    out_dir: Path
    keep_workdir: bool
    command: str

    @property
    def sizes(self) -> Sizes:
        return QUICK_SIZES if self.quick else FULL_SIZES

    @property
    def results_stem(self) -> str:
        """Smoke runs get their own files, so they never overwrite real results."""
        return "results-quick" if self.quick else "results"


def backfill_range(days: int = BACKFILL_DAYS) -> tuple[str, str]:
    """First and last daily partition of a backfill of `days` days, inclusive."""
    last = START + dt.timedelta(days=days - 1)
    return START.isoformat(), last.isoformat()


def day_window(first: str, last: str | None = None) -> tuple[str, str]:
    """The API window `[first 00:00Z, last + 1 day 00:00Z)` of daily partitions."""
    end = dt.date.fromisoformat(last or first) + dt.timedelta(days=1)
    return f"{first}T00:00:00Z", f"{end.isoformat()}T00:00:00Z"
