"""The inventory API contract (docs/inventory-api.md) as data: what a vendor serves and how.

`Endpoint` describes one listing (path, key, declared columns); `ApiOptions`
how the vendor pages, windows and fails. The defaults are the contract's; a
deployment changes them in configuration (the Dagster layer builds both from
its settings), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RESOURCE_NAME = "inventory_data"
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_DELAY_SECONDS = 60.0
# The soft-delete column of an endpoint whose deletes are flagged: when the vendor
# stopped listing the record.
DELETED_COLUMN = "_vendor_deleted_at"
# A guard against an API that never stops sending full pages.
MAXIMUM_OFFSET = 10_000_000

# dlt's schema contract for every table, stated rather than left to defaults: new
# vendor fields become columns (the contract allows fields at any time), and a
# field that changes type goes to a variant column instead of failing the load.
# Neither is silent: the `schema_drift` check names both. Declared columns never
# change type: records that break their type are set aside before dlt sees them.
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "evolve"}


@dataclass(frozen=True)
class Column:
    """A declared column: its warehouse type and whether a record may leave it null."""

    name: str
    type: str  # bigint, text, decimal, timestamp, bool, double
    nullable: bool = True
    precision: int | None = None
    scale: int | None = None
    description: str = ""

    def dlt_hint(self) -> dict[str, Any]:
        hint: dict[str, Any] = {"data_type": self.type, "nullable": self.nullable}
        if self.type == "decimal":
            hint |= {"precision": self.precision, "scale": self.scale}
        if self.type == "timestamp":
            hint["timezone"] = True
        if self.description:
            hint["description"] = self.description
        return hint


@dataclass(frozen=True)
class Endpoint:
    """One listing of the vendor, loaded into the table of the same name, merged on its key."""

    name: str
    path: str
    primary_key: str
    columns: tuple[Column, ...]
    data_selector: str = "data"
    # Places a record in a time window; two records with one key keep the latest.
    cursor_field: str = "updated_at"

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    def dlt_columns(self) -> dict[str, dict[str, Any]]:
        """Column hints: every column exists with its declared type, even when all null."""
        hints = {column.name: column.dlt_hint() for column in self.columns}
        hints[self.primary_key]["primary_key"] = True
        if self.cursor_field in hints:
            hints[self.cursor_field]["dedup_sort"] = "desc"
        return hints


@dataclass(frozen=True)
class ApiOptions:
    """How the vendor's API is called: auth, paging, windows, retries."""

    api_key_param: str = "api_key"
    page_size: int = 100
    total_path: str = "total"
    window_start_param: str = "updated_since"
    window_end_param: str = "updated_before"
    max_retries: int = 3
    backoff_factor: float = 2.0
    request_timeout_seconds: float = 30.0


# The contract's resource, for using the source without the Dagster layer. The
# code location declares the same endpoint in defs/inventory_api/defs.yaml.
INVENTORY_DATA = Endpoint(
    name=RESOURCE_NAME,
    path="/v1/resource",
    primary_key="id",
    columns=(
        Column("id", "bigint", nullable=False, description="Primary key of the record"),
        Column("inventory_id", "text", nullable=False, description="Business id of the item"),
        Column("product_name", "text", description="Display name; any Unicode"),
        Column("sku", "text", description="Stock keeping unit"),
        Column("quantity", "bigint", nullable=False, description="Units on hand, >= 0"),
        Column("unit_price", "decimal", precision=18, scale=4, description="Price per unit"),
        Column("warehouse", "text", description="Warehouse code"),
        Column("updated_at", "timestamp", nullable=False, description="Last change, UTC"),
    ),
)
