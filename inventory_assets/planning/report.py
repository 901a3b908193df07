"""The backfill plan as its two fronts show it: a console table and markdown.

`inventory-api-plan` prints `as_text`, `<group>_backfill_plan_job` puts
`as_markdown` in its output metadata; both end with the same summary lines.
"""

from __future__ import annotations

from inventory_assets.planning.plan import BackfillPlan, DayPlan

COLUMNS = ("day", "records", "pages", "requests", "flag")


def _cells(day: DayPlan) -> tuple[str, ...]:
    numbers = (day.records, day.pages, day.requests)
    return (day.day.isoformat(), *("?" if n is None else str(n) for n in numbers), day.flag)


def _total_cells(plan: BackfillPlan) -> tuple[str, ...]:
    totals = plan.counts.day_totals
    records = "?" if totals is None else str(sum(totals))
    return ("total", records, str(plan.pages), str(plan.requests), "")


def duration(seconds: float) -> str:
    """Seconds as a person reads them: 0.42 s, 3 min 20 s, 2 h 5 min."""
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} h {minutes % 60} min"


def heading(plan: BackfillPlan) -> str:
    counts = plan.counts
    span = f"{counts.days[0]} to {counts.days[-1]}"
    latency = f"{counts.latency_seconds * 1000:.0f} ms each"
    return (
        f"{plan.endpoint}, {span}, {plan.shape.sync_mode} mode "
        f"({counts.requests} request{'s' if counts.requests != 1 else ''} to plan it, {latency})"
    )


def summary(plan: BackfillPlan) -> list[str]:
    """How the load pages, its requests and time, the flags and the budget, in sentences."""
    shape, counts = plan.shape, plan.counts
    if counts.day_totals is None:
        how = (
            f"The load pages the whole listing ({counts.listing_total} records) once for the "
            "range and keeps each day's records itself (client_window): records per day are "
            "unknown before it runs."
        )
    elif plan.windows > 1:
        in_flight = min(shape.max_concurrency, plan.windows)
        how = (
            f"The load pages {plan.windows} daily windows, {in_flight} at a time "
            f"(max_concurrency {shape.max_concurrency})."
        )
    else:
        how = "The load pages one window over the range (max_concurrency 1)."
    rate = shape.max_requests_per_second
    limit = f"{rate:g} requests a second" if rate else "no rate limit set"
    lines = [
        f"{how} Pages of {shape.page_size} records.",
        f"Expected: {plan.requests} requests, {plan.pages} pages, {duration(plan.seconds)} "
        f"(bound by the {plan.bound}: {counts.latency_seconds * 1000:.0f} ms a request "
        f"measured, {limit}).",
    ]
    flagged = len(plan.flagged)
    if flagged:
        days = "1 day looks" if flagged == 1 else f"{flagged} days look"
        lines.append(f"{days} wrong: check them before the backfill (see flag).")
    return [*lines, budget_line(plan)] if plan.max_requests is not None else lines


def budget_line(plan: BackfillPlan) -> str:
    verdict = "over" if plan.over_budget else "within"
    return f"{plan.requests} requests: {verdict} the budget of {plan.max_requests}."


def as_text(plan: BackfillPlan) -> str:
    rows = [COLUMNS, *(_cells(day) for day in plan.days), _total_cells(plan)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    table = [
        "  ".join(
            [row[0].ljust(widths[0])]
            + [cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:], strict=True)]
            + [row[-1]]
        ).rstrip()
        for row in rows
    ]
    return "\n".join([f"inventory-api-plan: {heading(plan)}", "", *table, "", *summary(plan)])


def as_markdown(plan: BackfillPlan) -> str:
    rows = [_cells(day) for day in plan.days]
    total = _total_cells(plan)
    table = [
        "| " + " | ".join(COLUMNS) + " |",
        "| --- | ---: | ---: | ---: | --- |",
        *("| " + " | ".join(row) + " |" for row in rows),
        "| **" + total[0] + "** | " + " | ".join(total[1:]) + " |",
    ]
    return "\n".join([heading(plan), "", *table, "", *summary(plan)])
