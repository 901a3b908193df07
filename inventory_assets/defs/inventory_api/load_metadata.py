"""What one load of an endpoint records on its materialization, as typed metadata sets.

The asset writes both sets (assets.py) and its checks read them back (checks.py),
so a key is named once, here:

- `TableMetadataSet`: Dagster's own table keys (`dagster/table_name`,
  `dagster/column_schema`, `dagster/row_count`, `dagster/partition_row_count`),
  which the UI shows as the table's schema and size;
- `LoadMetadata`: everything else, under `inventory/`: what the load paged,
  kept, rejected and noticed, and the window and dlt load ids its checks judge.

Dagster 1.13 exports neither base class from `dagster` itself; they live in its
metadata package, where dagster-dlt imports them from too. This is the one
module of the project that imports them, and the one exception to "public
APIs only" (test_definitions.py holds it to that).
"""

from __future__ import annotations

from dagster import JsonMetadataValue
from dagster._core.definitions.metadata import NamespacedMetadataSet, TableMetadataSet

__all__ = ["LoadMetadata", "TableMetadataSet"]


class LoadMetadata(NamespacedMetadataSet):
    """The `inventory/...` metadata of one load (a window, or the whole listing).

    Every field is optional, as metadata read back may be older or partial:
    `extract` leaves out what a materialization did not record.
    """

    # The window, the warehouse, and the rows of this load (`_dlt_load_id`, comma-separated).
    window_start: str | None = None  # ISO 8601; "" for the whole listing
    window_end: str | None = None
    sync_mode: str | None = None  # window, client_window or full
    destination: str | None = None  # `<kind>: <location>`, never a password
    dlt_load_ids: str | None = None
    # The pages: what they cost and what they announced.
    pages_fetched: int | None = None
    requests: int | None = None
    retries: int | None = None
    passes: int | None = None  # times the window was paged (again after a short pass)
    total_announced: int | None = None
    total_missing: bool | None = None  # no page said a total: no completeness check
    vendor_page_size: int | None = None
    # The records: received, loaded, set aside, served twice, masked.
    records_received: int | None = None
    rows_loaded: int | None = None
    rows_rejected: int | None = None
    rejected_sample: JsonMetadataValue | None = None
    duplicate_ids: int | None = None
    outside_window: int | None = None  # left out by a client-side window
    values_masked: int | None = None
    # Schema drift: vendor fields that became columns, declared columns of another type.
    columns_added: JsonMetadataValue | None = None
    type_changes: JsonMetadataValue | None = None
    # A whole listing: the keys the vendor no longer lists, and what `deletes` did.
    deletes: str | None = None
    vendor_deleted: int | None = None
    vendor_deleted_sample: JsonMetadataValue | None = None
    # Where the run's time went, per step (the load's StepTimer).
    seconds_sync: float | None = None
    seconds_extract: float | None = None
    seconds_normalize: float | None = None
    seconds_load: float | None = None
    # Wall-clock time the vendor's quota (api.max_requests_per_second) held the requests back.
    seconds_waiting_for_quota: float | None = None
    changed_records: int | None = None  # set by a change sensor's request only

    @classmethod
    def namespace(cls) -> str:
        return "inventory"

    @property
    def load_ids(self) -> list[str]:
        return [load_id for load_id in (self.dlt_load_ids or "").split(",") if load_id]
