"""results.png: rows/s per variant for cpu, wall time per variant for backfill.

Matplotlib's object API only (no pyplot): no global state, no GUI backend.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from benchmarks.results import Scenario

COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3")


def write_chart(scenarios: dict[str, Scenario], path: Path, title: str) -> None:
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    cpu_axes, backfill_axes = figure.subplots(1, 2)
    _bars(cpu_axes, scenarios.get("cpu"), "rows_per_s", "rows/s (median, higher is better)")
    _bars(backfill_axes, scenarios.get("backfill"), "wall_s", "wall s (median, lower is better)")
    figure.suptitle(title)
    figure.savefig(path, dpi=110)


def _bars(axes: Axes, scenario: Scenario | None, metric: str, label: str) -> None:
    if scenario is None:
        axes.text(0.5, 0.5, "not run", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return
    names, values = [], []
    for variant in scenario.variants.values():
        value = getattr(variant, metric) if variant.available else None
        names.append(variant.name if variant.available else f"{variant.name}\n(not available)")
        values.append(value or 0.0)
    bars = axes.bar(names, values, color=COLORS[: len(names)])
    axes.bar_label(bars, labels=[_label(v, metric) for v in values], padding=2)
    axes.set_title(scenario.title, fontsize=9, wrap=True)
    axes.set_ylabel(label)
    axes.margins(y=0.15)


def _label(value: float, metric: str) -> str:
    if not value:
        return "n/a"
    return f"{value:,.0f}" if metric == "rows_per_s" else f"{value:.2f} s"
