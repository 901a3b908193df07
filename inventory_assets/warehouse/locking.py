"""The writers' locks: loads take turns at the warehouse, across processes and machines.

DuckDB: our own processes queue on an advisory lock next to the file
(`in_turn`); a process of somebody else's (a notebook, the duckdb CLI) holds
DuckDB's own lock on the file itself, which `open_when_free` waits out, saying
who holds it, for at most the configured timeout. PostgreSQL: dlt merges
through one staging table per dataset, which two loads at once would
overwrite, so a load holds a session-level advisory lock
(`take_advisory_lock`); it holds across machines and dies with its connection,
so a killed run never leaves it taken.
"""

from __future__ import annotations

import fcntl
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from dagster import Failure, get_dagster_logger

LOCK_POLL_SECONDS = 0.5
LOCK_NOTICE_SECONDS = 10.0
# DuckDB's words for a file another process holds: "... is held in PROGRAM (PID 123)".
_HELD_BY = re.compile(
    r"Could not set lock on file .*?held in (?P<program>.+?) \(PID (?P<pid>\d+)\)"
)


def _lock_holder(message: str) -> str | None:
    """Who holds a DuckDB file, from DuckDB's lock error; None for any other error."""
    found = _HELD_BY.search(message)
    return f"PID {found['pid']}, {found['program']}" if found else None


@contextmanager
def in_turn(path: Path) -> Iterator[None]:
    """Our own processes' turn at the DuckDB file `path`: an advisory lock next to it."""
    with path.with_name(path.name + ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_when_free(path: Path, setting: str, timeout_seconds: float) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file `path`, once no other process holds it; waits
    `timeout_seconds`. `setting` names the file as configured (`INVENTORY_DUCKDB_PATH=...`),
    for a file that cannot be opened at all."""
    started, last_said = time.monotonic(), None
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as error:
            holder = _lock_holder(str(error))
            if holder is None:
                problem = str(error).removeprefix("IO Error: ")
        if holder is None:
            raise Failure(
                f"{setting} cannot be opened: {problem} Point it at a"
                " file this process may write (a read-only disk cannot hold the warehouse)."
            )
        waited = time.monotonic() - started
        if waited >= timeout_seconds:
            raise Failure(
                f"The DuckDB file {path} is held by another process ({holder}) and stayed "
                f"locked for {waited:.0f} s: close that connection (a notebook, the duckdb "
                "CLI), or read a copy of the file instead, or raise "
                "INVENTORY_DUCKDB_LOCK_TIMEOUT_SECONDS; then re-run."
            )
        if last_said is None or time.monotonic() - last_said >= LOCK_NOTICE_SECONDS:
            get_dagster_logger().info(
                f"Waiting for the DuckDB file {path}, held by {holder}: {waited:.0f} s so far"
                f" (at most {timeout_seconds:.0f} s)."
            )
            last_said = time.monotonic()
        time.sleep(LOCK_POLL_SECONDS)


def take_advisory_lock(raw: Any, name: str) -> None:
    """Wait for PostgreSQL's session-level advisory lock `name` on the psycopg2 connection
    `raw`, and hold it: it is released when the connection closes."""
    raw.autocommit = True
    with raw.cursor() as cursor:
        cursor.execute("select pg_advisory_lock(hashtext(%s))", [name])
