"""Command line of the harness: parse options, run the scenarios, report, write the files.

Exit status: 0 whether or not the targets are met (they are reported), 1 when
a correctness check or a measured run failed, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import machine
from benchmarks.chart import write_chart
from benchmarks.report import console_report, write_documents
from benchmarks.results import Scenario
from benchmarks.runner import MeasurementError, Runner
from benchmarks.scenarios import SCENARIO_FUNCTIONS, Bench
from benchmarks.settings import BENCH_DIR, DEFAULT_SCENARIOS, SCENARIOS, Options
from benchmarks.targets import evaluate
from benchmarks.warehouse import CorrectnessError


def _scenario_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown or not names:
        given = ", ".join(unknown) or "(none)"
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {given}; choose from {', '.join(SCENARIOS)}"
        )
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def parse_options(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark the inventory ingestion against a raw HTTP loop and plain dlt.",
    )
    add = parser.add_argument
    add("--repeats", type=_positive, default=None, help="repeats per variant (default 3)")
    add("--quick", action="store_true", help="smoke test: 10,000 records and 1 repeat")
    add(
        "--only",
        type=_scenario_list,
        default=DEFAULT_SCENARIOS,
        help=f"subset of {','.join(SCENARIOS)} (default: all)",
    )
    add("--with-1m", action="store_true", help="memory: also 1,000,000 records (slow)")
    add("--with-5m", action="store_true", help="memory: also 5,000,000 records (very slow)")
    add("--out", type=Path, default=BENCH_DIR, help="where results.{md,json,png} go")
    add("--keep-workdir", action="store_true", help="keep the DuckDB files and logs")
    args = parser.parse_args(argv)
    for flag, given in (("--with-1m", args.with_1m), ("--with-5m", args.with_5m)):
        if given and "memory" not in args.only:
            parser.error(f"{flag} measures the memory scenario; add memory to --only")
    return Options(
        scenarios=tuple(name for name in SCENARIOS if name in args.only),
        repeats=args.repeats or (1 if args.quick else 3),
        quick=args.quick,
        with_1m=args.with_1m,
        with_5m=args.with_5m,
        out_dir=args.out,
        keep_workdir=args.keep_workdir,
        command=shlex.join(["python", "-m", "benchmarks", *argv]),
    )


def run_scenarios(bench: Bench) -> dict[str, Scenario]:
    results: dict[str, Scenario] = {}
    for name in bench.options.scenarios:
        bench.log(f"scenario {name}")
        results[name] = SCENARIO_FUNCTIONS[name](bench)
    return results


def main(argv: list[str] | None = None) -> None:
    options = parse_options(sys.argv[1:] if argv is None else argv)
    load_before = list(os.getloadavg())
    started = time.monotonic()
    date = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    workdir = Path(tempfile.mkdtemp(prefix="inventory-bench-"))
    api_key = f"bench-{secrets.token_urlsafe(12)}"  # the simulator's and every client's
    bench = Bench(options, Runner(workdir, api_key=api_key), api_key)
    try:
        scenarios = run_scenarios(bench)
    except (CorrectnessError, MeasurementError) as failure:
        sys.stderr.write(f"\nBENCHMARK FAILED: {failure}\n(work dir kept: {workdir})\n")
        raise SystemExit(1) from None
    if options.keep_workdir:
        bench.log(f"work dir kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    targets = evaluate(scenarios, options.sizes)
    sys.stdout.write(console_report(scenarios, targets))
    run = {
        "date": date,
        "command": options.command,
        "repeats": options.repeats,
        "quick": options.quick,
        "scenarios": list(options.scenarios),
        "with_1m": options.with_1m,
        "with_5m": options.with_5m,
        "duration_s": time.monotonic() - started,
        "load_before": load_before,
        "load_after": list(os.getloadavg()),
    }
    described = machine.describe()
    paths = write_documents(
        options.out_dir, options.results_stem, scenarios, targets, run, described
    )
    chart = options.out_dir / f"{options.results_stem}.png"
    title = f"inventory_assets benchmarks, {date[:10]}" + (" (quick)" if options.quick else "")
    write_chart(scenarios, chart, title)
    bench.log("wrote " + ", ".join(str(p) for p in [*paths, chart]))
