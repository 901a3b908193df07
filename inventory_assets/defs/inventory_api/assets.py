"""The ingestion assets: one `@dlt_assets` per endpoint of the vendor's API.

`@dlt_assets` derives the asset spec from a source built at definition time
with placeholders (no network, no secrets). The run builds the real source from
the resources and the partition's time window, so a single-run backfill of a
range loads the range's window.

The run path is ours, not `DagsterDltResource.run`: a load syncs the stored
schema and writes under the warehouse's lock, and refuses an incomplete window
between extract and load (`lib/loading.py`); dagster-dlt's `run` does all three
steps in one call, with no place for either.
"""

import tempfile
from collections.abc import Iterator

import dlt
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
)
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from inventory_assets.defs.inventory_api.endpoint_spec import EndpointSpec
from inventory_assets.defs.inventory_api.load_metadata import LoadMetadata, TableMetadataSet
from inventory_assets.defs.inventory_api.resources import DltWorkingDirResource, VendorApiResource
from inventory_assets.loading import (
    Extraction,
    LoadOutcome,
    describe_window,
    load_window,
    rejected_table,
)
from inventory_assets.sources.inventory_api import Endpoint, ExtractStats, Window, inventory_source
from inventory_assets.sources.inventory_api.errors import (
    IncompleteWindowError,
    WindowIgnoredError,
    explain,
)
from inventory_assets.warehouse.destination import DATASET_NAME, DestinationResource

REJECTED_SAMPLE = 10


class ChangeNotice(Config):
    """Why a change sensor requested this run: the day whose records changed, and how many.

    Run config rather than tags, because `dagster sensor preview` prints only a
    run request's config: this is how a preview shows which partitions a tick
    would load. Empty for runs launched by hand, by a schedule or by automation.
    """

    changed_day: str | None = None
    changed_records: int | None = None


def op_name(spec: EndpointSpec) -> str:
    return f"load_{spec.name}"


def change_notice_config(spec: EndpointSpec, day: str, changed_records: int) -> dict:
    """The run config a change sensor's run request carries (see `ChangeNotice`)."""
    notice = ChangeNotice(changed_day=day, changed_records=changed_records)
    return {"ops": {op_name(spec): {"config": notice.model_dump()}}}


class EndpointTranslator(DagsterDltTranslator):
    """The endpoint's key and group, and no phantom upstream source asset."""

    def __init__(self, spec: EndpointSpec) -> None:
        self._spec = spec

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=self._spec.key,
                deps=[],
                group_name=self._spec.group,
                description=self._spec.description,
                freshness_policy=self._spec.freshness_policy,
                # The warehouse's kind is added where the destination is known
                # (component.py): the asset loads into whichever is configured.
                kinds={"dlt"},
            )
        )


def _spec_pipeline(name: str) -> dlt.Pipeline:
    """A pipeline that only lets dagster-dlt describe the asset specs.

    It names no destination: which warehouse the runs load into is configuration.
    dlt writes a state file when a pipeline is created, so this one lives in a
    throwaway directory instead of the user's home; runs use their own pipeline.
    """
    with tempfile.TemporaryDirectory(prefix="inventory-assets-spec-") as tmp:
        return dlt.pipeline(pipeline_name=name, pipelines_dir=tmp, dataset_name=DATASET_NAME)


def build_ingest_assets(spec: EndpointSpec) -> AssetsDefinition:
    """The `@dlt_assets` that loads `spec.endpoint`: a window per run, or the whole listing."""
    endpoint = spec.endpoint

    @dlt_assets(
        dlt_source=inventory_source(
            "http://spec.invalid", "spec-only-placeholder", endpoint=endpoint
        ),
        dlt_pipeline=_spec_pipeline(endpoint.name),
        name=op_name(spec),
        partitions_def=spec.partitions_def,
        dagster_dlt_translator=EndpointTranslator(spec),
        pool=spec.pool,
    )
    @spec.resources.injected
    def _load(
        context: AssetExecutionContext,
        vendor_api: VendorApiResource,
        destination: DestinationResource,
        dlt_working_dir: DltWorkingDirResource,
        config: ChangeNotice,
    ) -> Iterator[MaterializeResult]:
        window = Window(*context.partition_time_window) if spec.partitions_def else None
        if config.changed_records is not None:
            context.log.info(
                f"Requested by a change sensor: {config.changed_records} records of "
                f"{endpoint.name} changed at the vendor on {config.changed_day}"
            )
        outcome = _load_or_fail(context, spec, window, vendor_api, destination, dlt_working_dir)
        context.log.info(
            f"Loaded {outcome.rows_loaded} rows of {endpoint.name} for "
            f"{describe_window(window)} in {outcome.stats.pages} pages with "
            f"{outcome.stats.retryable_failures} retries"
        )
        for warning in _warnings(endpoint, outcome.stats, outcome):
            context.log.warning(warning)
        metadata = _metadata(spec, outcome, destination)
        if config.changed_records is not None:
            metadata |= LoadMetadata(changed_records=config.changed_records)
        if (
            spec.partitions_def
            and context.has_partition_key
            and not context.has_partition_key_range
        ):
            # The partition's own rows, which the UI shows beside the table's row count.
            metadata |= TableMetadataSet(partition_row_count=outcome.rows_loaded)
        yield MaterializeResult(asset_key=spec.key, metadata=metadata)

    return _load


def _load_or_fail(
    context: AssetExecutionContext,
    spec: EndpointSpec,
    window: Window | None,
    vendor_api: VendorApiResource,
    destination: DestinationResource,
    dlt_working_dir: DltWorkingDirResource,
) -> LoadOutcome:
    """Load the window; an expected API failure becomes one actionable message."""
    stats = ExtractStats()
    failure: Failure | None = None

    def short_pass(attempt: int, seen: ExtractStats, short: IncompleteWindowError) -> None:
        """A pass came up short: page again, unless the vendor's total is the reason."""
        if not spec.whole_listing and (
            diagnosis := _total_ignoring_window(vendor_api, spec, window, seen)
        ):
            raise diagnosis
        repeated = f"; ids served twice: {seen.repeated_ids}" if seen.repeated_ids else ""
        context.log.warning(
            f"Pass {attempt} of {describe_window(window)} came up short: "
            f"{seen.total_announced} records announced, {seen.distinct_received} distinct ids "
            f"received{repeated}. Records changed at the vendor while it was paged; paging "
            "it again."
        )

    extraction = Extraction(
        build=lambda into: vendor_api.source(spec.endpoint, window, into),
        passes=1 + vendor_api.repage_passes,
        on_short_pass=short_pass,
    )
    with dlt_working_dir.pipeline(
        spec.endpoint.name, context.run_id, destination, context.instance
    ) as pipeline:
        try:
            return load_window(
                pipeline,
                extraction,
                spec.endpoint,
                window,
                stats,
                destination,
                context.run_id,
                workers=vendor_api.max_concurrency,
                deletes=spec.endpoint.deletes if spec.whole_listing else None,
            )
        except Exception as error:
            explained = explain(error, vendor_api.base_url, vendor_api.max_retries)
            if explained is None:
                raise
            if isinstance(explained, IncompleteWindowError) and not spec.whole_listing:
                explained = _total_ignoring_window(vendor_api, spec, window, stats) or explained
            failure = Failure(description=_with_consequence(explained), allow_retries=True)
    # Raised outside the except block so dlt's layered traceback stays out of the event log.
    raise failure


def _with_consequence(error: Exception) -> str:
    """The API's failure, and what it means for the warehouse."""
    if isinstance(error, IncompleteWindowError | WindowIgnoredError):
        return str(error)  # these already say that nothing was loaded, and why
    return f"{error} Nothing of this run was loaded; re-run it when the API has recovered."


def _total_ignoring_window(
    vendor_api: VendorApiResource, spec: EndpointSpec, window: Window | None, stats: ExtractStats
) -> IncompleteWindowError | None:
    """A window's total that is the whole listing's: the vendor's total ignores the window.

    Asked only after a window came up short (one request), to tell this from
    records that moved while the window was paged.
    """
    if window is None or stats.repeated_ids or not stats.total_announced:
        return None
    windows = len(window.days()) if vendor_api.max_concurrency > 1 else 1
    try:
        listing = vendor_api.change_feed(spec.endpoint).first(None).total
    except Exception:
        return None  # the diagnosis is a courtesy: the load's own error stands
    if listing is None or listing * windows != stats.total_announced:
        return None
    return IncompleteWindowError(
        f"The inventory API's total counts {stats.total_announced} records for "
        f"{describe_window(window)} but the pages held {stats.distinct_received}; the vendor's "
        f"total seems to ignore the window (the whole listing counts {listing} too): set "
        "INVENTORY_TOTAL_PATH= to page without it. Nothing was loaded."
    )


def _warnings(endpoint: Endpoint, stats: ExtractStats, outcome: LoadOutcome) -> list[str]:
    """What the API did wrong without making the load fail."""
    warnings = []
    if stats.rejected:
        warnings.append(
            f"{len(stats.rejected)} records broke the contract and went to "
            f"{rejected_table(endpoint.name)} instead; first: {stats.rejected[0].reason}"
        )
    if stats.total_missing:
        warnings.append(
            "The API's pages carry no total: paged until an empty page, without the"
            " completeness check a total allows (set INVENTORY_TOTAL_PATH= to say so)."
        )
    if stats.values_masked:
        warnings.append(
            f"{stats.values_masked} values of the vendor's data held the API key and were loaded"
            " with it masked as ***: the vendor echoes the key (a signed link?). Ask it to stop,"
            " or rotate the key if those values are shared."
        )
    if outcome.vendor_deleted:
        warnings.append(
            f"{len(outcome.vendor_deleted)} rows are no longer listed by the vendor (first: "
            f"{outcome.vendor_deleted[:REJECTED_SAMPLE]}); deletes setting: see metadata."
        )
    return warnings


def _metadata(spec: EndpointSpec, outcome: LoadOutcome, destination: DestinationResource) -> dict:
    window, stats = outcome.window, outcome.stats
    # Dagster's own keys: the UI shows them as the table's schema and size.
    table = TableMetadataSet(
        column_schema=outcome.columns,
        row_count=outcome.table_rows,
        table_name=destination.table(spec.endpoint.name),
    )
    load = LoadMetadata(
        rows_loaded=outcome.rows_loaded,
        pages_fetched=stats.pages,
        requests=stats.requests,
        passes=stats.passes,
        retries=stats.retryable_failures,
        total_announced=stats.total_announced or 0,
        records_received=stats.records_received,
        duplicate_ids=stats.duplicate_ids,
        total_missing=stats.total_missing,
        vendor_page_size=stats.page_size_seen,
        sync_mode=spec.endpoint.sync_mode,
        outside_window=stats.outside_window,
        values_masked=stats.values_masked,
        vendor_deleted=len(outcome.vendor_deleted),
        vendor_deleted_sample=MetadataValue.json(outcome.vendor_deleted[:REJECTED_SAMPLE]),
        deletes=spec.endpoint.deletes if spec.whole_listing else "n/a (window)",
        rows_rejected=len(stats.rejected),
        rejected_sample=MetadataValue.json(
            [{"id": r.id, "reason": r.reason} for r in stats.rejected[:REJECTED_SAMPLE]]
        ),
        destination=f"{destination.kind}: {destination.location()}",
        window_start=window.start.isoformat() if window else "",
        window_end=window.end.isoformat() if window else "",
        # The `_dlt_load_id` of the rows this run wrote: checks use it to find them.
        dlt_load_ids=",".join(outcome.load_ids),
        columns_added=MetadataValue.json(outcome.columns_added),
        type_changes=MetadataValue.json(stats.type_changes()),
        **{f"seconds_{step}": seconds for step, seconds in outcome.seconds.items()},
        seconds_waiting_for_quota=round(stats.rate_limit_wait_seconds, 3),
    )
    return {**table, **load}
