"""The ingestion asset: the API's `inventory_data` resource as `inventory/inventory_data`.

`@dlt_assets` derives the asset spec from a source built at import with
placeholders (no network, no secrets). The run builds the real source from the
resources and the partition's time window, so a single-run backfill of a range
loads the range's window.
"""

import tempfile
from collections.abc import Iterator

import dlt
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
)
from dagster._core.definitions.metadata.metadata_set import TableMetadataSet
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from inventory_assets.defs.destinations import DATASET_NAME, DestinationResource
from inventory_assets.defs.loading import REJECTED_TABLE, LoadOutcome, load_window
from inventory_assets.defs.partitions import daily_partitions
from inventory_assets.defs.resources import (
    PIPELINE_NAME,
    DltPipelineResource,
    InventoryApiResource,
)
from inventory_assets.sources.inventory_api import (
    ExtractStats,
    Window,
    inventory_source,
)
from inventory_assets.sources.inventory_api import settings as api_settings
from inventory_assets.sources.inventory_api.errors import explain

INVENTORY_DATA_KEY = AssetKey(["inventory", api_settings.RESOURCE_NAME])
LOAD_IDS_METADATA_KEY = "dlt_load_ids"
REJECTED_METADATA_KEY = "rows_rejected"
COLUMNS_ADDED_METADATA_KEY = "columns_added"
TYPE_CHANGES_METADATA_KEY = "type_changes"
REJECTED_SAMPLE = 10
# The concurrency pool of every step that calls the vendor's API. Its limit is set
# in the instance (`concurrency: pools:` in deploy/dagster.yaml), so it holds across
# all runs: a burst of sensor requests or a backfill never exceeds it.
INVENTORY_API_POOL = "inventory_api"


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
                # The warehouse's kind is added where the destination is chosen
                # (definitions.py): the asset loads into whichever is configured.
                kinds={"dlt"},
            )
        )


def _spec_pipeline() -> dlt.Pipeline:
    """A pipeline that only lets dagster-dlt describe the asset specs.

    It names no destination: which warehouse the runs load into is configuration,
    and definitions.py labels the specs with it. dlt writes a state file when a
    pipeline is created, so this one lives in a throwaway directory instead of
    the user's home; runs use their own pipeline.
    """
    with tempfile.TemporaryDirectory(prefix="inventory-assets-spec-") as tmp:
        return dlt.pipeline(
            pipeline_name=PIPELINE_NAME, pipelines_dir=tmp, dataset_name=DATASET_NAME
        )


@dlt_assets(
    dlt_source=inventory_source("http://spec.invalid", "spec-only-placeholder"),
    dlt_pipeline=_spec_pipeline(),
    name="inventory_api",
    partitions_def=daily_partitions,
    dagster_dlt_translator=InventoryTranslator(),
    pool=INVENTORY_API_POOL,
)
def inventory_api_assets(
    context: AssetExecutionContext,
    inventory_api: InventoryApiResource,
    destination: DestinationResource,
    dlt_pipeline: DltPipelineResource,
) -> Iterator[MaterializeResult]:
    """Load the partition's (or the backfill range's) window and report what landed."""
    start, end = context.partition_time_window
    window = Window(start, end)
    stats = ExtractStats()
    failure: Failure | None = None
    source = inventory_api.source(window, stats)
    with dlt_pipeline.pipeline(context.run_id, destination) as pipeline:
        try:
            outcome = load_window(
                pipeline,
                source,
                window,
                stats,
                destination,
                context.run_id,
                workers=inventory_api.max_concurrency,
            )
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
    for warning in _warnings(stats):
        context.log.warning(warning)
    yield MaterializeResult(asset_key=INVENTORY_DATA_KEY, metadata=_metadata(outcome, destination))


def _warnings(stats: ExtractStats) -> list[str]:
    """What the API did wrong without making the load fail."""
    warnings = []
    if stats.rejected:
        warnings.append(
            f"{len(stats.rejected)} records broke the contract and went to "
            f"{DATASET_NAME}.{REJECTED_TABLE} instead; first: {stats.rejected[0].reason}"
        )
    return warnings


def _metadata(outcome: LoadOutcome, destination: DestinationResource) -> dict:
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
        "total_announced": MetadataValue.int(outcome.stats.total_announced or 0),
        "records_received": MetadataValue.int(outcome.stats.records_received),
        "duplicate_ids": MetadataValue.int(outcome.stats.duplicate_ids),
        REJECTED_METADATA_KEY: MetadataValue.int(len(outcome.stats.rejected)),
        "rejected_sample": MetadataValue.json(
            [{"id": r.id, "reason": r.reason} for r in outcome.stats.rejected[:REJECTED_SAMPLE]]
        ),
        "destination": MetadataValue.text(f"{destination.kind}: {destination.location()}"),
        "window_start": MetadataValue.text(window.start.isoformat()),
        "window_end": MetadataValue.text(window.end.isoformat()),
        # The `_dlt_load_id` of the rows this run wrote: checks use it to find them.
        LOAD_IDS_METADATA_KEY: MetadataValue.text(",".join(outcome.load_ids)),
        # Schema drift: vendor fields that became columns, declared columns of another type.
        COLUMNS_ADDED_METADATA_KEY: MetadataValue.json(outcome.columns_added),
        TYPE_CHANGES_METADATA_KEY: MetadataValue.json(outcome.stats.type_changes()),
        **{
            f"seconds_{step}": MetadataValue.float(seconds)
            for step, seconds in outcome.seconds.items()
        },
    }
