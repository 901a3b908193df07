"""The warehouse the inventory dataset lives in: a DuckDB file (default) or PostgreSQL.

Everything that touches the warehouse goes through one of these resources. The
dlt pipeline gets its destination from `dlt_destination()`; the checks and the
downstream assets run their SQL on `connect()`, which takes the same SQL on
both databases: `%s` placeholders, and only SQL that DuckDB and PostgreSQL both
speak. Which one is used is configuration (`warehouse.destination` in the
settings, `INVENTORY_DESTINATION`).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import re
import shutil
import time
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Any, ClassVar

import dlt
import duckdb
from dagster import AssetSpec, ConfigurableResource, Failure, get_dagster_logger
from dlt.common.destination import Destination
from dlt.sources.credentials import ConnectionStringCredentials
from pydantic import Field

from inventory_assets.sources.inventory_api.http import Redactor

DATASET_NAME = "inventory"
DEFAULT_DUCKDB_PATH = "data/warehouse.duckdb"

# The variables docs/configuration.md documents, named in error messages.
DESTINATION_ENV = "INVENTORY_DESTINATION"
DUCKDB_PATH_ENV = "INVENTORY_DUCKDB_PATH"
POSTGRES_URL_ENV = "INVENTORY_POSTGRES_URL"
DUCKDB = "duckdb"
POSTGRES = "postgres"
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2")
ADBC_DRIVER = "adbc_driver_postgresql"
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


class WarehouseConnection:
    """One open transaction in the warehouse, taking the project's SQL on either database.

    Queries use `%s` placeholders, PostgreSQL's driver style; the SQL has no
    other `%`.
    """

    placeholder = "%s"

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def _cursor(self) -> Any:
        return self._raw.cursor()

    def execute(self, sql: str, params: Sequence = ()) -> Any:
        """Run one statement; returns a DB-API cursor (`fetchone`, `fetchall`, `description`)."""
        cursor = self._cursor()
        cursor.execute(sql.replace("%s", self.placeholder), tuple(params) or None)
        return cursor

    def fetchall(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return list(self.execute(sql, params).fetchall())

    def fetchone(self, sql: str, params: Sequence = ()) -> tuple:
        return tuple(self.execute(sql, params).fetchone())


class DuckDBConnection(WarehouseConnection):
    """DuckDB's placeholder is `?`, and its connection is its own cursor: a
    `.cursor()` would be a second connection, outside this transaction."""

    placeholder = "?"

    def _cursor(self) -> Any:
        return self._raw


class DestinationResource(ConfigurableResource):
    """Where the dataset lives: the dlt destination, a SQL connection, and a writers' lock."""

    kind: ClassVar[str]  # the Dagster kind, shown on the assets in the UI
    dataset_name: str = Field(default=DATASET_NAME, description="Schema that holds the tables")

    @abstractmethod
    def dlt_destination(self) -> Destination:
        """The dlt destination, with credentials from this resource."""

    @abstractmethod
    def loader_file_format(self) -> str:
        """How dlt hands the next load's rows to this database."""

    @abstractmethod
    def location(self) -> str:
        """Where the dataset is, for logs and metadata: never a password."""

    @abstractmethod
    def write_lock(self) -> AbstractContextManager[None]:
        """Held by a load while it writes: serializes the runs writing to this dataset."""

    @abstractmethod
    def connect(self, publish: bool = False) -> AbstractContextManager[WarehouseConnection]:
        """One transaction for the SQL of a check or an asset, committed on a clean exit;
        `publish` for SQL that writes (see `publish`)."""

    def publish(self) -> None:
        """After a write, under `write_lock`: make it visible where readers read (no-op here)."""

    def label(self, spec: AssetSpec) -> AssetSpec:
        """`spec` as an asset stored here: the warehouse's kind, shown in the UI, and
        storage kind (the assets' code names neither; configuration picks it)."""
        return spec.merge_attributes(
            kinds={self.kind}, metadata={"dagster/storage_kind": self.kind}
        )

    def table(self, name: str) -> str:
        """The qualified name of a table in the dataset."""
        return f"{self.dataset_name}.{name}"

    def has_table(self, con: WarehouseConnection, name: str) -> bool:
        """Whether a load has created the table `name` in the dataset yet."""
        (found,) = con.fetchone(
            "select count(*) from information_schema.tables"
            " where table_schema = %s and table_name = %s",
            [self.dataset_name, name],
        )
        return bool(found)

    def columns(self, con: WarehouseConnection, name: str) -> set[str]:
        """The columns of the table `name` in the dataset (none before its first load)."""
        rows = con.fetchall(
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s",
            [self.dataset_name, name],
        )
        return {row[0] for row in rows}


class DuckDBDestinationResource(DestinationResource):
    """A DuckDB file, the embedded default.

    DuckDB admits one writing process at a time, and refuses even a reader
    while another process writes, so every connection takes an advisory file
    lock next to the database; a load takes it only for its writing steps.
    """

    kind: ClassVar[str] = DUCKDB
    # DuckDB reads Parquet in bulk: the load step is ~40x faster than with INSERT
    # statements on 100k rows (see benchmarks/).
    path: str = Field(default=DEFAULT_DUCKDB_PATH, description="Path of the DuckDB file")
    replica_path: str | None = Field(
        default=None,
        description=(
            "A copy of the file, replaced after every load and refresh, for readers who"
            " query while loads run (INVENTORY_DUCKDB_REPLICA_PATH)"
        ),
    )
    lock_timeout_seconds: float = Field(
        default=180.0,
        ge=0,
        description=(
            "How long a load or a check waits for the file while another process (a"
            " notebook, the duckdb CLI) holds it (INVENTORY_DUCKDB_LOCK_TIMEOUT_SECONDS)"
        ),
    )
    load_memory_limit: str = Field(
        default="64MB",
        description=(
            "DuckDB's memory limit while loading: a large merge spills to disk instead of"
            " growing the run's process (DuckDB's own default is 80% of RAM)."
        ),
    )

    @property
    def database_path(self) -> Path:
        """The file's absolute path; refuses one DuckDB cannot use, in one line."""
        path = Path(self.path).expanduser().resolve()
        problem = None
        if path.stem == self.dataset_name:
            problem = (
                f"names the DuckDB catalog {path.stem!r}, the same as the dataset "
                f"{self.dataset_name!r}; DuckDB then cannot resolve "
                f"`{self.dataset_name}.<table>`. Give the file another name, e.g. "
                f"{DEFAULT_DUCKDB_PATH!r}"
            )
        elif path.is_dir():
            problem = f"is a directory; name a file in it, e.g. {path / 'warehouse.duckdb'}"
        elif path.parent.exists() and not path.parent.is_dir():
            problem = f"is inside {path.parent}, which is a file, not a directory"
        if problem:
            raise Failure(f"{DUCKDB_PATH_ENV}={self.path!r} {problem}.")
        return path

    def location(self) -> str:
        return str(self.database_path)

    def _folder(self) -> Path:
        """The file's path, its folder made if need be; a folder that cannot be made
        (a disk not mounted, no permission) is one line naming the setting."""
        path = self.database_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            failure = Failure(
                f"{DUCKDB_PATH_ENV}={self.path!r}: its folder {path.parent} cannot be created "
                f"({error.strerror}); is the disk mounted? Point it at a writable place."
            )
        else:
            return path
        raise failure  # outside the except block: no chained traceback in the event log

    def dlt_destination(self) -> Destination:
        credentials = {
            "database": str(self._folder()),
            "global_config": {
                "memory_limit": self.load_memory_limit,
                # Merging needs no row order, and keeping it costs memory on big loads.
                "preserve_insertion_order": False,
            },
        }
        return dlt.destinations.duckdb(credentials=credentials)

    def loader_file_format(self) -> str:
        """Parquet: DuckDB reads the typed batches' files as they are."""
        return "parquet"

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the database's single-writer lock across processes.

        Our own runs queue on an advisory lock next to the file; a process of
        somebody else's (a notebook, the duckdb CLI) holds DuckDB's lock on the
        file itself, which is waited for too, so dlt finds the file free.
        """
        with self._in_turn(), closing(self._open_when_free()):
            # Held open while the load writes: DuckDB then keeps the database open
            # between dlt's jobs, each of which opens and closes its own connection,
            # and checkpoints it once, at the end, instead of after every job.
            yield

    @contextmanager
    def _in_turn(self) -> Iterator[None]:
        """Our own processes' turn at the file: an advisory lock next to it."""
        path = self._folder()
        with path.with_name(path.name + ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def publish(self) -> None:
        """Replace the read replica with the file as it is now, atomically.

        Readers of the replica never hold the warehouse's lock: one that has the
        old copy open keeps reading it (the file it opened stays until closed),
        the next one opens the new copy.
        """
        if not self.replica_path:
            return
        replica = Path(self.replica_path).expanduser().resolve()
        replica.parent.mkdir(parents=True, exist_ok=True)
        with self._open_when_free() as raw:
            raw.execute("checkpoint")  # everything committed is in the file, not the WAL
        # Copies a killed publish left behind: only publishers (under the lock) make them.
        for leftover in replica.parent.glob(f".{replica.name}.*.tmp"):
            leftover.unlink(missing_ok=True)
        staged = replica.with_name(f".{replica.name}.{os.getpid()}.tmp")
        shutil.copyfile(self.database_path, staged)
        os.replace(staged, replica)  # atomic: a reader opens the old copy or the new one

    def _open_when_free(self) -> duckdb.DuckDBPyConnection:
        """A connection, once no other process holds the file; waits `lock_timeout_seconds`."""
        path = self._folder()
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
                    f"{DUCKDB_PATH_ENV}={self.path!r} cannot be opened: {problem} Point it at a"
                    " file this process may write (a read-only disk cannot hold the warehouse)."
                )
            waited = time.monotonic() - started
            if waited >= self.lock_timeout_seconds:
                raise Failure(
                    f"The DuckDB file {path} is held by another process ({holder}) and stayed "
                    f"locked for {waited:.0f} s: close that connection (a notebook, the duckdb "
                    "CLI), or read a copy of the file instead, or raise "
                    "INVENTORY_DUCKDB_LOCK_TIMEOUT_SECONDS; then re-run."
                )
            if last_said is None or time.monotonic() - last_said >= LOCK_NOTICE_SECONDS:
                get_dagster_logger().info(
                    f"Waiting for the DuckDB file {path}, held by {holder}: {waited:.0f} s so far"
                    f" (at most {self.lock_timeout_seconds:.0f} s)."
                )
                last_said = time.monotonic()
            time.sleep(LOCK_POLL_SECONDS)

    @contextmanager
    def connect(self, publish: bool = False) -> Iterator[WarehouseConnection]:
        # Our turn, then a connection that waits out other processes itself.
        with self._in_turn():
            with self._open_when_free() as raw:
                raw.begin()
                yield DuckDBConnection(raw)
                raw.commit()
            if publish:
                self.publish()


class PostgresDestinationResource(DestinationResource):
    """A PostgreSQL database, for teams whose runs span machines.

    The connection string goes to dlt's own Postgres credentials. Readers need
    no lock (PostgreSQL isolates them), but loads take a session-level advisory
    lock: dlt merges through one staging table per dataset, which two loads at
    once would overwrite. The lock holds across machines and dies with its
    connection, so a killed run never leaves it taken.
    """

    kind: ClassVar[str] = POSTGRES
    url: str = Field(
        description=(
            "postgresql://user:password@host:port/database (from INVENTORY_POSTGRES_URL;"
            " `postgresql+psycopg2://` is accepted too)"
        )
    )

    def loader_file_format(self) -> str:
        """Parquet, bulk-loaded through ADBC (its driver comes with the `production` extra).

        The typed Arrow batches go in as they are: 100,000 records loaded in 0.97x
        DuckDB's time, against 1.49x as CSV through COPY (`python -m benchmarks
        --only destinations`). CSV is no fallback: dlt miscounts the rows of CSV
        files written from records (two records counted as eight), so a window
        with an undeclared vendor field would fail its completeness check.
        """
        if importlib.util.find_spec(ADBC_DRIVER) is None:
            raise ImportError(
                f"{DESTINATION_ENV}={POSTGRES} loads through ADBC, whose driver is not"
                " installed: pip install 'inventory_assets[production]'"
            )
        return "parquet"

    def credentials(self) -> ConnectionStringCredentials:
        """dlt's Postgres credentials for `url`; a malformed URL is refused without echoing it."""
        problem = None
        try:
            credentials = ConnectionStringCredentials(self.url)
        except ValueError:  # dlt's InvalidConnectionString
            problem = "is not a connection string"
        else:
            if credentials.drivername not in POSTGRES_SCHEMES:
                problem = f"has the scheme {credentials.drivername!r}, not postgresql://"
        if problem:
            raise Failure(
                f"{POSTGRES_URL_ENV} {problem}. Set it to "
                "postgresql://user:password@host:port/database."
            )
        credentials.drivername = "postgresql"
        if credentials.password is None:
            # dlt requires a password; a server with trust or peer auth needs none.
            credentials.password = ""
        return credentials

    def location(self) -> str:
        return str(self.credentials())

    def dlt_destination(self) -> Destination:
        return dlt.destinations.postgres(credentials=self.credentials())

    @contextmanager
    def _raw_connection(self) -> Iterator[Any]:
        """A psycopg2 connection; an unreachable server or a refused login is a clear
        failure that names the server, never the password."""
        psycopg2 = _psycopg2()
        credentials = self.credentials()
        try:
            raw = psycopg2.connect(credentials.to_native_representation())
        except psycopg2.Error as error:
            # Masked in case a driver message ever quotes it, raw or URL-encoded.
            reason = Redactor(credentials.password or "")(str(error).strip())
            failure = Failure(
                f"Cannot connect to the PostgreSQL destination {credentials} "
                f"({POSTGRES_URL_ENV}): {reason}. Check that the server runs and that the "
                "URL's host, port, database, user and password are right."
            )
        else:
            failure = None
        if failure:
            raise failure  # outside the except block: no chained traceback in the event log
        try:
            yield raw
        finally:
            raw.close()

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        with self._raw_connection() as raw:
            raw.autocommit = True
            with raw.cursor() as cursor:
                cursor.execute("select pg_advisory_lock(hashtext(%s))", [self._lock_name()])
            yield  # the lock is released when its connection closes

    def _lock_name(self) -> str:
        return f"inventory_assets:{self.dataset_name}"

    @contextmanager
    def connect(self, publish: bool = False) -> Iterator[WarehouseConnection]:
        # Readers of PostgreSQL see every committed write: there is nothing to publish.
        with self._raw_connection() as raw:
            yield WarehouseConnection(raw)
            raw.commit()


def _psycopg2() -> Any:
    """The PostgreSQL driver, which only the `production` extra installs."""
    try:
        import psycopg2
    except ImportError as error:
        raise ImportError(
            f"{DESTINATION_ENV}={POSTGRES} needs the PostgreSQL driver: "
            "pip install 'inventory_assets[production]'"
        ) from error
    return psycopg2
