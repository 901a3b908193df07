"""A DuckDB file, the embedded default warehouse.

DuckDB admits one writing process at a time, and refuses even a reader while
another process writes, so every connection takes the file's turn
(`locking.py`); a load takes it only for its writing steps. Readers who query
while loads run read a replica of the file instead (`replica.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import ClassVar

import dlt
import duckdb
from dagster import Failure
from dlt.common.destination import Destination
from pydantic import Field

from inventory_assets.warehouse.destination import (
    DestinationResource,
    DuckDBConnection,
    WarehouseConnection,
)
from inventory_assets.warehouse.locking import in_turn, open_when_free
from inventory_assets.warehouse.replica import replace_replica

DUCKDB = "duckdb"
DEFAULT_DUCKDB_PATH = "data/warehouse.duckdb"
# The variable docs/configuration.md documents, named in error messages.
DUCKDB_PATH_ENV = "INVENTORY_DUCKDB_PATH"


class DuckDBDestinationResource(DestinationResource):
    """A DuckDB file, the embedded default.

    DuckDB admits one writing process at a time, and refuses even a reader
    while another process writes, so every connection takes the file's turn
    (`locking.py`); a load takes it only for its writing steps.
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
        with in_turn(self._folder()), closing(self._open_when_free()):
            # Held open while the load writes: DuckDB then keeps the database open
            # between dlt's jobs, each of which opens and closes its own connection,
            # and checkpoints it once, at the end, instead of after every job.
            yield

    def publish(self) -> None:
        """Replace the read replica with the file as it is now, atomically (`replica.py`)."""
        if not self.replica_path:
            return
        with self._open_when_free() as raw:
            raw.execute("checkpoint")  # everything committed is in the file, not the WAL
        replace_replica(self.database_path, Path(self.replica_path).expanduser().resolve())

    def _open_when_free(self) -> duckdb.DuckDBPyConnection:
        """A connection, once no other process holds the file; waits `lock_timeout_seconds`."""
        setting = f"{DUCKDB_PATH_ENV}={self.path!r}"
        return open_when_free(self._folder(), setting, self.lock_timeout_seconds)

    @contextmanager
    def connect(self, publish: bool = False) -> Iterator[WarehouseConnection]:
        # Our turn, then a connection that waits out other processes itself.
        with in_turn(self._folder()):
            with self._open_when_free() as raw:
                raw.begin()
                yield DuckDBConnection(raw)
                raw.commit()
            if publish:
                self.publish()
