"""The ingestion asset: the API's `inventory_data` resource as `inventory/inventory_data`.

`@dlt_assets` derives the asset spec from a source built at import with
placeholders (no network, no secrets). The run builds the real source from the
resources and the partition's time window, so a single-run backfill of a range
loads the range's window.
"""

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import dlt
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
)
from dagster._core.definitions.metadata.metadata_set import TableMetadataSet
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from inventory_assets.defs.partitions import daily_partitions
from inventory_assets.defs.resources import (
    DATASET_NAME,
    PIPELINE_NAME,
    DltPipelineResource,
    DuckDBDestinationResource,
    InventoryApiResource,
)
from inventory_assets.sources.inventory_api import (
    RequestStats,
    Window,
    declared_table,
    inventory_source,
)
from inventory_assets.sources.inventory_api import settings as api_settings
from inventory_assets.sources.inventory_api.errors import explain

INVENTORY_DATA_KEY = AssetKey(["inventory", api_settings.RESOURCE_NAME])
LOAD_IDS_METADATA_KEY = "dlt_load_ids"


class InventoryTranslator(DagsterDltTranslator):
    """Keys under `inventory/`, one group, and no phantom upstream source asset."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=AssetKey(["inventory", data.resource.name]),
                deps=[],
                group_name="inventory",
                description=(
                    "Inventory records from the vendor's REST API, one daily partition per UTC"
                    " day of `updated_at`, merged on `id` into the warehouse."
                ),
                kinds={"dlt", "duckdb"},
            )
        )


def _spec_pipeline() -> dlt.Pipeline:
    """A pipeline that only describes the destination for the asset specs.

    dlt writes a state file when a pipeline is created, so this one lives in a
    throwaway directory instead of the user's home; runs use their own pipeline.
    """
    with tempfile.TemporaryDirectory(prefix="inventory-assets-spec-") as tmp:
        return dlt.pipeline(
            pipeline_name=PIPELINE_NAME,
            pipelines_dir=tmp,
            destination="duckdb",
            dataset_name=DATASET_NAME,
        )


@dataclass(frozen=True)
class LoadOutcome:
    """What one load did, for the materialization metadata."""

    window: Window
    rows_loaded: int
    stats: RequestStats
    table_rows: int
    columns: TableSchema
    load_ids: tuple[str, ...]


@dlt_assets(
    dlt_source=inventory_source("http://spec.invalid", "spec-only-placeholder"),
    dlt_pipeline=_spec_pipeline(),
    name="inventory_api",
    partitions_def=daily_partitions,
    dagster_dlt_translator=InventoryTranslator(),
)
def inventory_api_assets(
    context: AssetExecutionContext,
    inventory_api: InventoryApiResource,
    destination: DuckDBDestinationResource,
    dlt_pipeline: DltPipelineResource,
) -> Iterator[MaterializeResult]:
    """Load the partition's (or the backfill range's) window and report what landed."""
    start, end = context.partition_time_window
    window = Window(start, end)
    stats = RequestStats()
    failure: Failure | None = None
    source = inventory_api.source(window, stats)
    with dlt_pipeline.pipeline(context.run_id, destination) as pipeline:
        try:
            outcome = load_window(pipeline, source, window, stats, destination)
        except Exception as error:
            explained = explain(error, inventory_api.base_url)
            if explained is None:
                raise
            failure = Failure(description=str(explained), allow_retries=True)
    if failure:
        # Raised outside the except block so dlt's layered traceback stays out of the event log.
        raise failure
    context.log.info(
        f"Loaded {outcome.rows_loaded} rows for [{start.isoformat()}, {end.isoformat()}) "
        f"in {stats.pages} pages with {stats.retryable_failures} retries"
    )
    yield MaterializeResult(asset_key=INVENTORY_DATA_KEY, metadata=_metadata(outcome))


def load_window(
    pipeline: dlt.Pipeline,
    source: dlt.sources.DltSource,
    window: Window,
    stats: RequestStats,
    destination: DuckDBDestinationResource,
) -> LoadOutcome:
    """Extract and normalize unlocked, then load under the destination's write lock."""
    source.resources.add(declared_table())
    pipeline.extract(source)
    normalize_info = pipeline.normalize()
    table = api_settings.RESOURCE_NAME
    with destination.write_lock():
        load_info = pipeline.load()
        load_info.raise_on_failed_jobs()
        table_rows = _table_row_count(pipeline, table)
    return LoadOutcome(
        window=window,
        rows_loaded=normalize_info.row_counts.get(table, 0),
        stats=stats,
        table_rows=table_rows,
        columns=_column_schema(pipeline, table),
        load_ids=tuple(load_info.loads_ids),
    )


def _table_row_count(pipeline: dlt.Pipeline, table: str) -> int:
    """Rows in the destination table (which `declared_table` guarantees exists)."""
    with pipeline.sql_client() as client:
        rows = client.execute_sql(f"select count(*) from {client.make_qualified_table_name(table)}")
        return int(rows[0][0]) if rows else 0


def _column_schema(pipeline: dlt.Pipeline, table: str) -> TableSchema:
    """The table's columns as dlt declared them (types, nullability, primary key)."""
    schema = pipeline.default_schema
    columns = schema.get_table_columns(table) if table in schema.tables else {}
    return TableSchema(
        columns=[
            TableColumn(
                name=name,
                type=_column_type(column),
                constraints=TableColumnConstraints(
                    nullable=column.get("nullable", True),
                    unique=bool(column.get("unique") or column.get("primary_key")),
                    other=["primary_key"] if column.get("primary_key") else [],
                ),
            )
            for name, column in columns.items()
        ]
    )


def _column_type(column: dict) -> str:
    data_type = str(column.get("data_type", "text"))
    if data_type == "decimal" and column.get("precision") is not None:
        return f"decimal({column['precision']},{column.get('scale', 0)})"
    if data_type == "timestamp" and column.get("timezone", True):
        return "timestamp with time zone"
    return data_type


def _metadata(outcome: LoadOutcome) -> dict:
    window = outcome.window
    return {
        **TableMetadataSet(
            column_schema=outcome.columns,
            row_count=outcome.table_rows,
            table_name=f"{DATASET_NAME}.{api_settings.RESOURCE_NAME}",
        ),
        "rows_loaded": MetadataValue.int(outcome.rows_loaded),
        "pages_fetched": MetadataValue.int(outcome.stats.pages),
        "requests": MetadataValue.int(outcome.stats.requests),
        "retries": MetadataValue.int(outcome.stats.retryable_failures),
        "window_start": MetadataValue.text(window.start.isoformat()),
        "window_end": MetadataValue.text(window.end.isoformat()),
        # The `_dlt_load_id` of the rows this run wrote: checks use it to find them.
        LOAD_IDS_METADATA_KEY: MetadataValue.text(",".join(outcome.load_ids)),
    }
