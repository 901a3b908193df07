"""The warehouse's resource and its connection: what every warehouse offers.

The dlt pipeline gets its destination from `dlt_destination()`; the checks and
the downstream assets run their SQL on `connect()`, which takes the same SQL on
both databases: `%s` placeholders, and only SQL that DuckDB and PostgreSQL both
speak. Which one is used is configuration (`warehouse.destination` in the
settings, `INVENTORY_DESTINATION`): `duckdb_file.py` or `postgres.py`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from dagster import AssetSpec, ConfigurableResource
from dlt.common.destination import Destination
from pydantic import Field

DATASET_NAME = "inventory"

# The variable docs/configuration.md documents that picks the warehouse, named in errors.
DESTINATION_ENV = "INVENTORY_DESTINATION"


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
