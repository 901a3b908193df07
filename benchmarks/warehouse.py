"""Counting what landed: every dlt and project run is checked against the API's own count."""

from __future__ import annotations

from pathlib import Path

import duckdb

TABLE = "inventory.inventory_data"


class CorrectnessError(RuntimeError):
    """A variant did not deliver exactly the records the API holds for its window."""


def table_counts(path: Path) -> tuple[int, int]:
    """(rows, distinct ids) of inventory.inventory_data; (0, 0) without the file or table."""
    if not path.exists():
        return 0, 0
    with duckdb.connect(str(path), read_only=True) as connection:
        exists = connection.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'inventory' and table_name = 'inventory_data'"
        ).fetchone()
        if not exists or not exists[0]:
            return 0, 0
        counts = connection.execute(f"select count(*), count(distinct id) from {TABLE}").fetchone()
    return (int(counts[0]), int(counts[1])) if counts else (0, 0)


def verify(label: str, expected: int, rows: int, distinct_ids: int | None = None) -> None:
    """Fail loudly unless exactly `expected` rows (and as many distinct ids) arrived."""
    if rows != expected or (distinct_ids is not None and distinct_ids != expected):
        found = f"{rows} rows" + ("" if distinct_ids is None else f", {distinct_ids} distinct ids")
        raise CorrectnessError(f"{label}: expected {expected} rows in {TABLE}, found {found}")
