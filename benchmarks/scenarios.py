"""The scenarios: cpu, backfill, client-window, quota, cli-empty, reconcile, memory, and
destinations (skipped, with the reason, without a PostgreSQL server).

Each starts its own simulator(s), then runs its variants interleaved (a, b, c,
a, b, c, ...) so that machine noise hits every variant alike, and reports the
median of the repeats.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.results import Sample, Scenario, Variant, ratio
from benchmarks.runner import Runner
from benchmarks.server import CountingSimulator, serve, window_total
from benchmarks.settings import (
    BACKFILL_DAYS,
    BACKFILL_LATENCY_MS,
    DAY,
    DEFAULT_POSTGRES_ADMIN_URL,
    EMPTY_DAY,
    PAGE_SIZE,
    POSTGRES_ADMIN_URL_ENV,
    QUOTA_DAYS,
    QUOTA_PER_SECOND,
    QUOTA_ROWS,
    START,
    Options,
    backfill_range,
    day_window,
)
from benchmarks.warehouse import (
    CorrectnessError,
    PostgresUnavailable,
    check_postgres,
    scratch_database,
)

Measure = Callable[[str], Sample]  # label -> one verified sample


@dataclass
class Bench:
    """What every scenario needs: the options, the runner and the shared API key."""

    options: Options
    runner: Runner
    api_key: str
    _probe: dict[str, Any] | None = field(default=None)

    def log(self, message: str) -> None:
        sys.stderr.write(f"[bench] {message}\n")
        sys.stderr.flush()

    def probe(self) -> dict[str, Any]:
        """What the project's code offers, asked once per run (the code changes under us)."""
        if self._probe is None:
            self._probe = self.runner.probe()
        return self._probe

    def serve(
        self, rows: int, days: int, latency_ms: float = 0.0
    ) -> contextlib.AbstractContextManager[CountingSimulator]:
        """A simulator for this run's key; building a large data set takes seconds."""
        self.log(f"starting the simulator: {rows:,} records over {days} day(s)")
        return serve(rows, days, START, self.api_key, latency_ms)

    def expected(self, simulator: CountingSimulator, window: tuple[str, str], rows: int) -> int:
        """The API's count for the window; it must be the whole data set where it covers it."""
        total = window_total(simulator, self.api_key, window)
        if total != rows:
            raise CorrectnessError(f"the simulator serves {total} records, expected {rows}")
        return total

    def interleave(self, scenario: str, plan: dict[Variant, Measure]) -> None:
        """Run the plan's measurements round-robin, `repeats` times."""
        for repeat in range(1, self.options.repeats + 1):
            for variant, measure in plan.items():
                label = f"{scenario}/{variant.name} #{repeat}"
                sample = measure(label)
                variant.samples.append(sample)
                self.log(f"{label}: {_summary(sample)}")


def _summary(sample: Sample) -> str:
    rss = f", peak RSS {sample.peak_rss_mb:.0f} MB" if sample.peak_rss_mb else ""
    return f"{sample.wall_s:.2f} s, {sample.rows:,} rows{rss}"


def cpu(bench: Bench) -> Scenario:
    """One day of records without latency: what the client costs per record."""
    rows = bench.options.sizes.cpu
    window = day_window(DAY)
    variants = {
        "raw": Variant("raw", "requests.Session loop, JSON decoded, nothing written", rows),
        "rest-client": Variant(
            "rest-client",
            "dlt's RESTClient, the project's session and page check, nothing written",
            rows,
        ),
        "plain-dlt": Variant("plain-dlt", "rest_api_source, dlt defaults, DuckDB", rows),
        "dlt-arrow": Variant(
            "dlt-arrow", "tuned peer: @dlt.resource, requests, typed Arrow, merge", rows
        ),
        "project": Variant("project", "materialize() in process", rows),
        "project-cli": Variant("project-cli", "dagster asset materialize (whole process)", rows),
    }
    with bench.serve(rows, 1) as sim:
        expected = bench.expected(sim, window, rows)
        run = bench.runner
        bench.interleave(
            "cpu",
            {
                variants["raw"]: lambda label: run.child(
                    label, "raw", sim, {"window": window}, expected
                ),
                variants["rest-client"]: lambda label: run.child(
                    label, "rest-client", sim, {"window": window}, expected
                ),
                variants["plain-dlt"]: lambda label: run.child(
                    label, "plain-dlt", sim, {"window": window}, expected
                ),
                variants["dlt-arrow"]: lambda label: run.child(
                    label, "dlt-arrow", sim, {"window": window}, expected
                ),
                variants["project"]: _project_day(run, sim, window, expected),
                variants["project-cli"]: lambda label: run.cli(
                    label, sim, ["--partition", DAY], expected
                ),
            },
        )
        bench.log("cpu/project under cProfile, for the profile (not a timing)")
        profiled = run.child(
            "cpu/project-profile",
            "project-profile",
            sim,
            {"window": window, "partition": DAY},
            expected,
        )
    project = variants["project"].rows_per_s
    return Scenario(
        name="cpu",
        title=f"cpu: {rows:,} records in one day ({DAY}), no latency",
        variants=variants,
        ratios={
            "project/raw (rows/s)": ratio(project, variants["raw"].rows_per_s),
            "rest-client/raw (rows/s)": ratio(
                variants["rest-client"].rows_per_s, variants["raw"].rows_per_s
            ),
            "project/plain-dlt (rows/s)": ratio(project, variants["plain-dlt"].rows_per_s),
            "project/dlt-arrow (rows/s)": ratio(project, variants["dlt-arrow"].rows_per_s),
            "project-cli/raw (rows/s)": ratio(
                variants["project-cli"].rows_per_s, variants["raw"].rows_per_s
            ),
        },
        notes=[
            "wall = the timed work in a warm interpreter (imports excluded); project-cli = the"
            " whole `dagster asset materialize` process, start-up and the asset's quality"
            " checks included (the project's default, in-process executor).",
        ],
        facts={"profile": profiled.details.get("phases", {})},
    )


def backfill(bench: Bench) -> Scenario:
    """30 daily partitions in one run behind 20 ms of latency: what concurrency buys."""
    rows = bench.options.sizes.backfill
    first, last = backfill_range()
    window = day_window(first, last)
    probe = bench.probe()
    has_field = bool(probe.get("has_max_concurrency"))
    default = probe.get("max_concurrency")
    sequential = Variant("sequential", "one window, max_concurrency=1", rows)
    project = Variant("project", f"default max_concurrency ({default})", rows)
    if not has_field:
        sequential.description = "one window (the resource has no max_concurrency yet)"
        project.available = False
        project.description = "default max_concurrency"
        project.note = "not available: VendorApiResource has no max_concurrency field"
    spec = {"window": window, "partition_range": [first, last]}
    with bench.serve(rows, BACKFILL_DAYS, BACKFILL_LATENCY_MS) as sim:
        expected = bench.expected(sim, window, rows)
        run = bench.runner
        plan: dict[Variant, Measure] = {
            sequential: lambda label: run.child(
                label,
                "project",
                sim,
                {**spec, "max_concurrency": 1 if has_field else None},
                expected,
            )
        }
        if project.available:
            plan[project] = lambda label: run.child(label, "project", sim, spec, expected)
        bench.interleave("backfill", plan)
    return Scenario(
        name="backfill",
        title=(
            f"backfill: {rows:,} records over {BACKFILL_DAYS} daily partitions"
            f" ({first}...{last}) in one run, {BACKFILL_LATENCY_MS:.0f} ms latency per request"
        ),
        variants={"sequential": sequential, "project": project},
        ratios={"project/sequential (wall)": ratio(project.wall_s, sequential.wall_s)},
        notes=_backfill_notes(last),
        facts={
            "has_max_concurrency": has_field,
            "max_concurrency_default": default,
            "latency_s": BACKFILL_LATENCY_MS / 1000,
        },
    )


def _backfill_notes(last: str) -> list[str]:
    """Say so when the range reaches past today's last partition (the clock decides that)."""
    notes = [
        "A range in one run: materialize() with the tags dagster/asset_partition_range_start"
        " and _end (the asset's single-run backfill policy), no partition_key."
    ]
    last_partition = dt.datetime.now(dt.UTC).date()  # daily partitions with end_offset=1
    if dt.date.fromisoformat(last) > last_partition:
        notes.append(
            f"The range ends after today's partition ({last_partition}): Dagster records"
            " materializations only for partitions that exist, but the run still loads the"
            " whole window (verified by the row count)."
        )
    return notes


def client_window(bench: Bench) -> Scenario:
    """A vendor that cannot filter by time: the listing is paged once per run, not per day."""
    rows = bench.options.sizes.backfill
    first, last = backfill_range()
    window = day_window(first, last)
    spec = {"window": window, "partition_range": [first, last]}
    variants = {
        "window": Variant("window", "sync_mode window: the API filters, one listing a day", rows),
        "project": Variant("project", "sync_mode client_window: the listing once, cut here", rows),
    }
    modes = {"window": "window", "project": "client_window"}
    listing_pages = -(-rows // PAGE_SIZE)
    with bench.serve(rows, BACKFILL_DAYS) as sim:
        expected = bench.expected(sim, window, rows)
        bench.interleave(
            "client-window",
            {
                variants[name]: _in_mode(bench.runner, sim, spec, expected, mode)
                for name, mode in modes.items()
            },
        )
    return Scenario(
        name="client-window",
        title=(
            f"client-window: {rows:,} records over {BACKFILL_DAYS} daily partitions"
            f" ({first}...{last}) in one run, by sync mode"
        ),
        variants=variants,
        ratios={
            "client_window/window (requests)": ratio(
                variants["project"].requests, variants["window"].requests
            )
        },
        notes=[
            "requests = resource requests the server answered in the run; the listing"
            f" holds {rows:,} records, {listing_pages} pages of {PAGE_SIZE}."
        ],
        facts={"listing_pages_plus_one": listing_pages + 1},
    )


def _in_mode(
    runner: Runner,
    sim: CountingSimulator,
    spec: dict[str, Any],
    expected: int,
    mode: str,
) -> Measure:
    """A measurement of the project over `spec`'s range in sync mode `mode`."""
    settings = {"INVENTORY_SYNC_MODE": mode}
    return lambda label: runner.child(label, "project", sim, spec, expected, settings=settings)


def quota(bench: Bench) -> Scenario:
    """A backfill against a vendor with a quota: kept by the limit, at the quota's pace.

    `free` is the same range from a vendor without a quota and without the limit;
    `project` meets a vendor that answers 429 above QUOTA_PER_SECOND with
    INVENTORY_MAX_REQUESTS_PER_SECOND set to it. The vendor's own request log
    says the busiest second and the 429s of every run.
    """
    first, last = backfill_range(QUOTA_DAYS)
    window = day_window(first, last)
    spec = {"window": window, "partition_range": [first, last]}
    variants = {
        "free": Variant("free", "no quota at the vendor, no limit", QUOTA_ROWS),
        "project": Variant(
            "project",
            f"a quota of {QUOTA_PER_SECOND}/s, INVENTORY_MAX_REQUESTS_PER_SECOND="
            f"{QUOTA_PER_SECOND}",
            QUOTA_ROWS,
        ),
    }
    limit = {"INVENTORY_MAX_REQUESTS_PER_SECOND": str(QUOTA_PER_SECOND)}
    with bench.serve(QUOTA_ROWS, QUOTA_DAYS, BACKFILL_LATENCY_MS) as sim:
        expected = bench.expected(sim, window, QUOTA_ROWS)
        bench.interleave(
            "quota",
            {
                variants["free"]: _at_vendor(bench.runner, sim, spec, expected, None, {}),
                variants["project"]: _at_vendor(
                    bench.runner, sim, spec, expected, QUOTA_PER_SECOND, limit
                ),
            },
        )
    samples = variants["project"].samples
    return Scenario(
        name="quota",
        title=(
            f"quota: {QUOTA_ROWS:,} records over {QUOTA_DAYS} daily partitions in one run,"
            f" {BACKFILL_LATENCY_MS:.0f} ms latency, a vendor quota of {QUOTA_PER_SECOND}"
            " requests a second"
        ),
        variants=variants,
        ratios={"project/free (wall)": ratio(variants["project"].wall_s, variants["free"].wall_s)},
        notes=[
            "busiest second and 429s: from the simulator's own log of each run;"
            " the limit keeps at most the quota in any sliding window of 1.05 s."
        ],
        facts={
            "quota_per_second": QUOTA_PER_SECOND,
            "busiest_second": max((s.details["busiest_second"] for s in samples), default=None),
            "refusals": sum(s.details["refusals"] for s in samples) if samples else None,
        },
    )


def _at_vendor(
    runner: Runner,
    sim: CountingSimulator,
    spec: dict[str, Any],
    expected: int,
    quota_per_second: int | None,
    settings: dict[str, str],
) -> Measure:
    """A measurement of the project over `spec`'s range against a vendor with this quota,
    its busiest second and 429s (from the vendor's log) in the sample's details."""

    def measure(label: str) -> Sample:
        sim.deviate(quota_per_second=quota_per_second)
        sample = runner.child(label, "project", sim, spec, expected, settings=settings)
        sample.details |= {"busiest_second": sim.busiest_second(), "refusals": sim.quota_refusals}
        return sample

    return measure


def reconcile(bench: Bench) -> Scenario:
    """What rows_match_api adds to a load when it compares the window's contents.

    A window of LISTING_LIMIT records, the largest a check lists: the load alone
    against the load with the check, which pages the window's keys and
    `updated_at` again and compares each with the warehouse.
    """
    from inventory_assets.defs.inventory_api.reconciliation import LISTING_LIMIT

    rows = LISTING_LIMIT
    window = day_window(DAY)
    variants = {
        "load": Variant("load", "materialize() of the day, no checks", rows),
        "project": Variant("project", "the same with rows_match_api (contents compared)", rows),
    }
    spec = {"window": window, "partition": DAY}
    with bench.serve(rows, 1) as sim:
        expected = bench.expected(sim, window, rows)
        run = bench.runner
        bench.interleave(
            "reconcile",
            {
                variants["load"]: lambda label: run.child(label, "project", sim, spec, expected),
                variants["project"]: lambda label: run.child(
                    label, "project", sim, {**spec, "reconcile": True}, expected
                ),
            },
        )
    return Scenario(
        name="reconcile",
        title=f"reconcile: rows_match_api over a day of {rows:,} records",
        variants=variants,
        ratios={
            "with check/load (wall)": ratio(variants["project"].wall_s, variants["load"].wall_s),
            "with check/load (requests)": ratio(
                variants["project"].requests, variants["load"].requests
            ),
        },
        notes=[
            "The check asks for the window's first page, lists the window again (one request"
            " per page of 100) and compares each key's updated_at with the warehouse's."
        ],
    )


def cli_empty(bench: Bench) -> Scenario:
    """The fixed cost of a CLI run: an empty partition next to the bare imports."""
    rows = bench.options.sizes.cpu
    window = day_window(EMPTY_DAY)
    variants = {
        "cli-empty": Variant(
            "cli-empty", f"dagster asset materialize --partition {EMPTY_DAY}", 0, has_rate=False
        ),
        "import-dagster": Variant(
            "import-dagster", 'python -c "import dagster"', 0, has_rate=False
        ),
        "import-definitions": Variant(
            "import-definitions",
            'python -c "import inventory_assets.definitions"',
            0,
            has_rate=False,
        ),
    }
    with bench.serve(rows, 1) as sim:
        expected = bench.expected(sim, window, 0)
        run = bench.runner
        bench.interleave(
            "cli-empty",
            {
                variants["cli-empty"]: lambda label: run.cli(
                    label, sim, ["--partition", EMPTY_DAY], expected
                ),
                variants["import-dagster"]: lambda label: run.command(label, "import dagster"),
                variants["import-definitions"]: lambda label: run.command(
                    label, "import inventory_assets.definitions"
                ),
            },
        )
    cli = variants["cli-empty"].wall_s
    return Scenario(
        name="cli-empty",
        title=f"cli-empty: one empty partition ({EMPTY_DAY}) through the CLI, and the imports",
        variants=variants,
        ratios={
            "cli-empty/import-dagster (wall)": ratio(cli, variants["import-dagster"].wall_s),
            "cli-empty/import-definitions (wall)": ratio(
                cli, variants["import-definitions"].wall_s
            ),
        },
        notes=[
            "All three are whole processes; peak RSS is the largest process of the tree.",
            "The CLI runs the asset and its quality checks with the project's default,"
            " in-process executor.",
        ],
    )


def memory(bench: Bench) -> Scenario:
    """Peak RSS of the project at the small size and, opt-in, ten and fifty times more."""
    sizes, options = bench.options.sizes, bench.options
    window = day_window(DAY)
    wanted = {"small": sizes.memory_small}
    if options.with_1m:
        wanted["large"] = sizes.memory_large
    if options.with_5m:
        wanted["huge"] = sizes.memory_huge
    variants = {
        size: Variant(f"project@{_short(rows)}", "materialize() in process", rows)
        for size, rows in wanted.items()
    }
    small = variants["small"]
    with contextlib.ExitStack() as stack:
        plan: dict[Variant, Measure] = {}
        for variant in variants.values():
            sim = stack.enter_context(bench.serve(variant.records, 1))
            expected = bench.expected(sim, window, variant.records)
            plan[variant] = _project_day(bench.runner, sim, window, expected)
        bench.interleave("memory", plan)
    return Scenario(
        name="memory",
        title="memory: peak RSS of the project by data set size (one day, no latency)",
        variants=variants,
        ratios={
            f"{size}/small (peak RSS)": ratio(variant.peak_rss_mb, small.peak_rss_mb)
            for size, variant in variants.items()
            if size != "small"
        },
        notes=[
            ", ".join(f"{size} = {variant.name}" for size, variant in variants.items())
            + "; the large size runs with --with-1m, the huge one with --with-5m."
        ],
    )


def destinations(bench: Bench) -> Scenario:
    """The cpu scenario's project run into DuckDB and into PostgreSQL: what a server costs."""
    rows = bench.options.sizes.cpu
    window = day_window(DAY)
    duckdb = Variant("duckdb", "materialize() in process, a DuckDB file (Parquet loads)", rows)
    postgres = Variant(
        "postgres", "materialize() in process, a scratch PostgreSQL database (Parquet, ADBC)", rows
    )
    admin_url = os.environ.get(POSTGRES_ADMIN_URL_ENV, DEFAULT_POSTGRES_ADMIN_URL)
    try:
        check_postgres(admin_url)
    except PostgresUnavailable as why:
        _skip(bench, [duckdb, postgres], f"skipped: {why}")
    else:
        with bench.serve(rows, 1) as sim:
            expected = bench.expected(sim, window, rows)
            bench.interleave(
                "destinations",
                {
                    duckdb: _project_day(bench.runner, sim, window, expected),
                    postgres: _postgres_day(bench.runner, sim, window, expected, admin_url),
                },
            )
    return Scenario(
        name="destinations",
        title=f"destinations: {rows:,} records in one day ({DAY}), no latency, into each",
        variants={"duckdb": duckdb, "postgres": postgres},
        ratios={
            "postgres/duckdb (wall)": ratio(postgres.wall_s, duckdb.wall_s),
            "postgres/duckdb (peak RSS)": ratio(postgres.peak_rss_mb, duckdb.peak_rss_mb),
        },
        notes=[
            "wall = the timed materialize(), as cpu's project; each PostgreSQL run gets a"
            " scratch database, created before and dropped after, outside the timing.",
            "peak RSS is the run's process: it includes embedded DuckDB, but not the"
            " PostgreSQL server, which runs on the same machine and shares its cores.",
        ],
    )


def _skip(bench: Bench, variants: list[Variant], why: str) -> None:
    """Report the scenario as not run, saying why, instead of failing the whole bench."""
    bench.log(f"destinations {why}")
    for variant in variants:
        variant.available = False
        variant.note = why


def _project_day(
    runner: Runner,
    sim: CountingSimulator,
    window: tuple[str, str],
    expected: int,
    postgres_url: str | None = None,
) -> Measure:
    """A measurement of the project loading the day (a function, to bind `sim` per size)."""
    return lambda label: runner.child(
        label, "project", sim, {"window": window, "partition": DAY}, expected, postgres_url
    )


def _postgres_day(
    runner: Runner, sim: CountingSimulator, window: tuple[str, str], expected: int, admin_url: str
) -> Measure:
    """_project_day into a database of its own per measurement, dropped even when it fails."""

    def measure(label: str) -> Sample:
        with scratch_database(admin_url) as url:
            return _project_day(runner, sim, window, expected, url)(label)

    return measure


def _short(rows: int) -> str:
    """100000 -> 100k, 1000000 -> 1M."""
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1_000 and rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


SCENARIO_FUNCTIONS: dict[str, Callable[[Bench], Scenario]] = {
    "cpu": cpu,
    "backfill": backfill,
    "client-window": client_window,
    "quota": quota,
    "cli-empty": cli_empty,
    "reconcile": reconcile,
    "memory": memory,
    "destinations": destinations,
}
