"""Counting what landed: every dlt and project run is checked against the API's own count.

The harness counts in DuckDB or PostgreSQL with the drivers themselves, not the
project's resources, so its process never imports Dagster. It also makes the
scratch PostgreSQL databases the destinations scenario loads into.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import duckdb

TABLE = "inventory.inventory_data"
SCRATCH_PREFIX = "inventory_bench"
CONNECT_TIMEOUT_SECONDS = 3
EXISTS_SQL = (
    "select count(*) from information_schema.tables"
    " where table_schema = 'inventory' and table_name = 'inventory_data'"
)
COUNTS_SQL = f"select count(*), count(distinct id) from {TABLE}"

Fetch = Callable[[str], Any]  # sql -> the first row, or None


class CorrectnessError(RuntimeError):
    """A variant did not deliver exactly the records the API holds for its window."""


class PostgresUnavailable(RuntimeError):
    """No psycopg2, or no PostgreSQL server answering: the scenario skips, saying which."""


def table_counts(path: Path) -> tuple[int, int]:
    """(rows, distinct ids) of inventory.inventory_data; (0, 0) without the file or table."""
    if not path.exists():
        return 0, 0
    with duckdb.connect(str(path), read_only=True) as connection:
        return _counts(lambda sql: connection.execute(sql).fetchone())


def postgres_table_counts(url: str) -> tuple[int, int]:
    """(rows, distinct ids) of inventory.inventory_data in the database at `url`."""
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:

            def fetch(sql: str) -> Any:
                cursor.execute(sql)
                return cursor.fetchone()

            return _counts(fetch)
    finally:
        connection.close()


def _counts(fetch: Fetch) -> tuple[int, int]:
    """The same two queries on either database; (0, 0) until a load created the table."""
    exists = fetch(EXISTS_SQL)
    if not exists or not exists[0]:
        return 0, 0
    counts = fetch(COUNTS_SQL)
    return (int(counts[0]), int(counts[1])) if counts else (0, 0)


def verify(label: str, expected: int, rows: int, distinct_ids: int | None = None) -> None:
    """Fail loudly unless exactly `expected` rows (and as many distinct ids) arrived."""
    if rows != expected or (distinct_ids is not None and distinct_ids != expected):
        found = f"{rows} rows" + ("" if distinct_ids is None else f", {distinct_ids} distinct ids")
        raise CorrectnessError(f"{label}: expected {expected} rows in {TABLE}, found {found}")


def check_postgres(admin_url: str) -> None:
    """Raise PostgresUnavailable unless the server at `admin_url` takes a connection."""
    _connect(admin_url).close()


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A new, empty database next to `admin_url`'s; yields its URL and drops it, even on failure."""
    name = f"{SCRATCH_PREFIX}_{uuid.uuid4().hex[:12]}"
    admin = _connect(admin_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlsplit(admin_url)._replace(path=f"/{name}").geturl()
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


def _connect(url: str) -> Any:
    """A psycopg2 connection; a missing driver or a silent server is PostgresUnavailable."""
    psycopg2 = _psycopg2()
    try:
        return psycopg2.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg2.OperationalError as error:
        where = urlsplit(url)
        reason = " ".join(str(error).split())  # libpq's message spans lines
        raise PostgresUnavailable(
            f"PostgreSQL at {where.hostname}:{where.port or 5432} is not reachable: {reason}"
        ) from None


def _psycopg2() -> ModuleType:
    """Imported only when asked for: the harness runs without the `production` extra."""
    try:
        import psycopg2
    except ImportError:
        raise PostgresUnavailable(
            "psycopg2 is not installed: pip install -e '.[production]'"
        ) from None
    return psycopg2
