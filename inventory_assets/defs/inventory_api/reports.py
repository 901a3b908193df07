"""Readable metadata for the downstream assets: markdown tables and an embedded chart.

A person should see the stock situation on the asset page without running SQL,
so the report travels as markdown, the chart as a PNG inlined as a data URI.
"""

import base64
import io
from collections.abc import Sequence


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table; `|` in values is escaped."""

    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|")

    lines = [
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
        *("| " + " | ".join(cell(value) for value in row) + " |" for row in rows),
    ]
    return "\n".join(lines)


def bar_chart_png(title: str, labels: Sequence[str], values: Sequence[float], ylabel: str) -> bytes:
    """A small bar chart as PNG bytes.

    Uses matplotlib's object API (no pyplot, no global backend state), imported
    here so loading the code location does not pay for it.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3), dpi=100)
    axes = figure.subplots()
    axes.bar(list(labels), list(values), color="#4f43dd")
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.tick_params(axis="x", labelrotation=30)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def embedded_png(png: bytes, alt: str) -> str:
    """Markdown that shows `png` inline, as Dagster's UI renders data-URI images."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
