"""The report: a markdown table on stdout, and results.md / results.json beside the harness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.results import Scenario, Variant
from benchmarks.targets import Target

METHOD = """\
- Each measurement runs in a fresh child process with a fresh DuckDB file (or,
  in destinations, a scratch PostgreSQL database), dlt working dir and
  DAGSTER_HOME (its storage initialized beforehand, as a user's instance is);
  the API simulator runs in the harness process (a thread), so its
  CPU and memory are never charged to the measured client.
- Variants of a scenario run interleaved (a, b, c, a, b, c, ...); the table shows
  the median of the repeats (max in flight: the highest of the repeats).
- wall: for raw, rest-client, plain-dlt, dlt-arrow and project, the timed work in a warm interpreter
  (imports excluded); for project-cli, cli-empty and the imports, the whole process.
- peak RSS: `ru_maxrss` of the child itself, read at its end; for whole processes
  (CLI, imports) `RUSAGE_CHILDREN` of a launcher, i.e. the largest process of the
  tree. Every measured process is started by a small launcher
  (benchmarks/launch.py), because Linux carries the spawning process's peak RSS
  into a child's `ru_maxrss` across fork + exec: spawned straight from the harness,
  which holds the simulator's data, every child would report at least the
  harness's peak. The kernel's VmHWM of each child is kept in results.json as a check.
- requests / max in flight: counted by the server (a wrapper around the simulator's
  `respond`, which includes the simulated latency), per measurement.
- Correctness: the rows in `inventory.inventory_data` (rows and distinct ids) are
  counted after every dlt/project run and must equal the API's count for the window;
  the raw loop and rest-client must receive exactly that many records.
- The machine is not isolated: the load average before and after the run is
  recorded above; a load near nproc at the start means other work competed.
"""

HEADER = (
    "| scenario | variant | what | records | wall s (median) | wall min-max | rows/s (median)"
    " | peak RSS MB | requests | max in flight | note |"
)
RULE = "|" + " --- |" * 11


def _load(load: list[float] | None) -> str:
    return "n/a" if not load else ", ".join(f"{value:.2f}" for value in load)


def _fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _row(scenario: Scenario, variant: Variant) -> str:
    if not variant.available or not variant.samples:
        cells = [scenario.name, variant.name, variant.description, f"{variant.records:,}"]
        return "| " + " | ".join(cells + ["n/a"] * 6 + [variant.note or "not run"]) + " |"
    low, high = variant.wall_range or (0.0, 0.0)
    cells = [
        scenario.name,
        variant.name,
        variant.description,
        f"{variant.records:,}",
        _fmt(variant.wall_s, 2),
        f"{low:.2f}-{high:.2f}",
        _fmt(variant.rows_per_s) if variant.has_rate else "-",
        _fmt(variant.peak_rss_mb),
        _fmt(variant.requests),
        _fmt(variant.max_in_flight),
        variant.note,
    ]
    return "| " + " | ".join(cells) + " |"


def results_table(scenarios: dict[str, Scenario]) -> str:
    rows = [_row(s, v) for s in scenarios.values() for v in s.variants.values()]
    return "\n".join([HEADER, RULE, *rows])


def ratios_table(scenarios: dict[str, Scenario]) -> str:
    rows = [
        f"| {s.name} | {name} | {_fmt(value, 2)} |"
        for s in scenarios.values()
        for name, value in s.ratios.items()
    ]
    return "\n".join(["| scenario | ratio | value |", "| --- | --- | --- |", *rows])


def targets_table(targets: list[Target]) -> str:
    rows = [f"| {t.name} | {t.measured} | {t.bar} | **{t.status}** |" for t in targets]
    return "\n".join(["| target | measured | bar | result |", "| --- | --- | --- | --- |", *rows])


def profile_table(scenarios: dict[str, Scenario]) -> str:
    """The cpu scenario's profiled run: seconds and share of each phase (benchmarks/profile.py)."""
    cpu = scenarios.get("cpu")
    phases = dict(cpu.facts.get("profile", {})) if cpu else {}
    total = phases.pop("total", None)
    if not phases or not total:
        return "(the cpu scenario did not run)"
    rows = [
        f"| {phase} | {seconds:.2f} | {100 * seconds / total:.0f}% |"
        for phase, seconds in sorted(phases.items(), key=lambda item: -item[1])
    ]
    return "\n".join(
        [
            "| phase (cpu/project under cProfile) | seconds | share |",
            "| --- | --- | --- |",
            *rows,
            f"| total (materialize) | {total:.2f} | 100% |",
        ]
    )


def console_report(scenarios: dict[str, Scenario], targets: list[Target]) -> str:
    """What the harness prints: the tables."""
    parts = [
        "## Results",
        results_table(scenarios),
        "## Ratios",
        ratios_table(scenarios),
        "## Targets",
        targets_table(targets),
        "## Profile",
        profile_table(scenarios),
    ]
    return "\n\n".join(parts) + "\n"


def markdown_document(
    scenarios: dict[str, Scenario],
    targets: list[Target],
    run: dict[str, Any],
    machine: dict[str, Any],
) -> str:
    """results.md: the tables plus when, how and where they were measured."""
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    memory = machine["memory_gib"]
    lines = [
        "# Benchmark results",
        "",
        *(["**Quick smoke run: not benchmark numbers.**", ""] if run["quick"] else []),
        f"- date: {run['date']}",
        f"- command: `{run['command']}` (from the project root)",
        f"- repeats: {run['repeats']} (median reported)",
        f"- duration of the whole run: {run['duration_s']:.0f} s",
        f"- load average (1, 5, 15 min) at start: {_load(run['load_before'])},"
        f" at end: {_load(run['load_after'])}",
        "",
        "## Machine",
        "",
        f"- platform: {machine['platform']}",
        f"- CPU: {machine['cpu_model']}, nproc {machine['nproc']}",
        f"- memory: {'unknown' if memory is None else f'{memory:.1f} GiB'}",
        f"- Python {machine['python']} ({machine['python_executable']})",
        f"- packages: {packages}",
        "",
        console_report(scenarios, targets),
        "## Scenarios",
        "",
        *[f"- **{s.title}**" + "".join(f"\n  - {n}" for n in s.notes) for s in scenarios.values()],
        "",
        "## Method",
        "",
        METHOD,
    ]
    return "\n".join(lines)


def json_document(
    scenarios: dict[str, Scenario],
    targets: list[Target],
    run: dict[str, Any],
    machine: dict[str, Any],
) -> str:
    """results.json: every sample, the medians, the ratios and the targets."""
    document = {
        "run": run,
        "machine": machine,
        "scenarios": {name: s.to_json() for name, s in scenarios.items()},
        "targets": [t.to_json() for t in targets],
    }
    return json.dumps(document, indent=2, default=str) + "\n"


def write_documents(
    out_dir: Path,
    stem: str,
    scenarios: dict[str, Scenario],
    targets: list[Target],
    run: dict[str, Any],
    machine: dict[str, Any],
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / f"{stem}.md"
    js = out_dir / f"{stem}.json"
    md.write_text(markdown_document(scenarios, targets, run, machine))
    js.write_text(json_document(scenarios, targets, run, machine))
    return [md, js]
