"""Quality checks on `inventory/inventory_data`, evaluated in the warehouse after each load.

Three are blocking (severity ERROR): a duplicate `id`, a missing required value
or a negative quantity would make every downstream sum wrong, so a run that
loads such data stops before its downstream assets. Three only warn:
`updated_at_in_window` (the API ignored the window parameters, which costs
efficiency, not correctness: rows still merge on `id`), `no_rejected_records`
(records that broke the contract were set aside; the rest is sound) and
`schema_drift` (the vendor added fields, or sent a declared column as another
type). The reconciliation with the API, `rows_match_api`, lives in
`reconciliation.py`. All of them gate the automated downstream refresh (see
`marts.py`).
"""

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetRecordsFilter,
    MetadataValue,
    multi_asset_check,
)

from inventory_assets.defs.destinations import DestinationResource, WarehouseConnection
from inventory_assets.defs.ingest import (
    COLUMNS_ADDED_METADATA_KEY,
    INVENTORY_DATA_KEY,
    LOAD_IDS_METADATA_KEY,
    REJECTED_METADATA_KEY,
    TYPE_CHANGES_METADATA_KEY,
)
from inventory_assets.defs.loading import REJECTED_TABLE
from inventory_assets.defs.reconciliation import rows_match_api
from inventory_assets.sources.inventory_api import settings as api_settings

REQUIRED_COLUMNS = ("id", "inventory_id", "quantity", "updated_at")
SAMPLE_SIZE = 10


@dataclass(frozen=True)
class Offenders:
    """Rows that break a rule: how many, and the first few ids to look at."""

    count: int
    sample_ids: list

    @property
    def passed(self) -> bool:
        return self.count == 0


def find_offenders(con: WarehouseConnection, id_query: str, params: Sequence = ()) -> Offenders:
    """Run a query that selects the `id` of every offending row."""
    count, sample = con.fetchone(
        f"select count(*), (array_agg(id order by id))[1:{SAMPLE_SIZE}]"
        f" from ({id_query}) as offenders",
        params,
    )
    return Offenders(count=count, sample_ids=list(sample or []))


def _result(offenders: Offenders, what: str, severity: AssetCheckSeverity) -> AssetCheckResult:
    description = (
        f"No rows with {what}."
        if offenders.passed
        else f"{offenders.count} rows with {what}; first ids: {offenders.sample_ids}"
    )
    return AssetCheckResult(
        passed=offenders.passed,
        description=description,
        severity=severity,
        metadata={
            "offending_rows": MetadataValue.int(offenders.count),
            "sample_ids": MetadataValue.json(offenders.sample_ids),
        },
    )


def _check_table(
    destination: DestinationResource,
    what: str,
    id_query: str,
    params: Sequence = (),
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
) -> AssetCheckResult:
    """Evaluate one rule; a table that no load has created yet has nothing wrong in it."""
    table = destination.table(api_settings.RESOURCE_NAME)
    with destination.connect() as con:
        if not destination.has_table(con, api_settings.RESOURCE_NAME):
            return AssetCheckResult(passed=True, description="No rows loaded yet.")
        offenders = find_offenders(con, id_query.format(table=table), params)
    return _result(offenders, what, severity)


def id_is_unique(
    context: AssetCheckExecutionContext, destination: DestinationResource
) -> AssetCheckResult:
    return _check_table(
        destination, "a duplicate id", "select id from {table} group by id having count(*) > 1"
    )


def required_columns_not_null(
    context: AssetCheckExecutionContext, destination: DestinationResource
) -> AssetCheckResult:
    any_null = " or ".join(f"{column} is null" for column in REQUIRED_COLUMNS)
    return _check_table(
        destination, "a null required value", f"select id from {{table}} where {any_null}"
    )


def quantity_not_negative(
    context: AssetCheckExecutionContext, destination: DestinationResource
) -> AssetCheckResult:
    return _check_table(
        destination, "a negative quantity", "select id from {table} where quantity < 0"
    )


@dataclass(frozen=True)
class LoadWindow:
    """The window and dlt load ids a materialization recorded."""

    start: datetime
    end: datetime
    load_ids: list[str]


def _latest_metadata(context: AssetCheckExecutionContext) -> Mapping[str, MetadataValue] | None:
    """Metadata of this run's materialization of inventory_data, else of the newest one."""
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=INVENTORY_DATA_KEY), limit=100, ascending=False
    ).records
    if not records:
        return None
    own = [record for record in records if record.run_id == context.run.run_id]
    return (own or records)[0].asset_materialization.metadata  # type: ignore[union-attr]


def _latest_load(context: AssetCheckExecutionContext) -> LoadWindow | None:
    """The window and dlt load ids the latest load recorded."""
    metadata = _latest_metadata(context)
    if metadata is None:
        return None
    load_ids = str(metadata[LOAD_IDS_METADATA_KEY].value or "")
    return LoadWindow(
        start=datetime.fromisoformat(str(metadata["window_start"].value)),
        end=datetime.fromisoformat(str(metadata["window_end"].value)),
        load_ids=[load_id for load_id in load_ids.split(",") if load_id],
    )


def updated_at_in_window(
    context: AssetCheckExecutionContext, destination: DestinationResource
) -> AssetCheckResult:
    load = _latest_load(context)
    if load is None or not load.load_ids:
        return AssetCheckResult(passed=True, description="The latest load wrote no rows.")
    placeholders = ", ".join("%s" for _ in load.load_ids)
    return _check_table(
        destination,
        f"updated_at outside [{load.start.isoformat()}, {load.end.isoformat()})",
        f"select id from {{table}} where _dlt_load_id in ({placeholders})"
        " and not (updated_at >= %s and updated_at < %s)",
        [*load.load_ids, load.start, load.end],
        severity=AssetCheckSeverity.WARN,
    )


def no_rejected_records(
    context: AssetCheckExecutionContext, destination: DestinationResource
) -> AssetCheckResult:
    metadata = _latest_metadata(context) or {}
    rejected = metadata.get(REJECTED_METADATA_KEY)
    count = int(rejected.value) if rejected is not None else 0  # type: ignore[arg-type]
    sample = metadata.get("rejected_sample")
    return AssetCheckResult(
        passed=count == 0,
        severity=AssetCheckSeverity.WARN,
        description=(
            "No record was rejected."
            if count == 0
            else f"{count} records broke the contract; see {REJECTED_TABLE} and rejected_sample."
        ),
        metadata={
            "rows_rejected": MetadataValue.int(count),
            "rejected_sample": MetadataValue.json(sample.value if sample else []),
        },
    )


# dlt's name for the column that takes the values of another type: `<column>__v_<type>`.
VARIANT = re.compile(r"^(?P<column>.+)__v_(?P<type>\w+)$")


def _added_description(added: dict[str, str]) -> list[str]:
    """New vendor columns, and undeclared fields whose type changed (dlt's variant columns)."""
    variants = {name: VARIANT.match(name) for name in added}
    parts = []
    new = ", ".join(f"{name} ({kind})" for name, kind in added.items() if not variants[name])
    if new:
        parts.append(
            f"The vendor added fields, now columns: {new}. Declare them in the source's"
            " column hints to fix their types."
        )
    for name, found in variants.items():
        if found:
            parts.append(
                f"Vendor field `{found['column']}` now also arrives as {found['type']}; those"
                f" values went to the new column `{name}`."
            )
    return parts


def _drift_description(added: dict[str, str], changes: list[dict]) -> str:
    if not added and not changes:
        return "The latest load saw the columns and types it saw before."
    parts = _added_description(added)
    for change in changes:
        parts.append(
            f"`{change['column']}` arrived as {change['seen']} instead of {change['expected']} "
            f"in {change['records']} records (first ids {change['ids']}); they were set aside"
            f" in {REJECTED_TABLE}, not loaded as a new column."
        )
    return " ".join(parts)


def schema_drift(
    context: AssetCheckExecutionContext, destination: DestinationResource
) -> AssetCheckResult:
    metadata = _latest_metadata(context) or {}
    added = metadata.get(COLUMNS_ADDED_METADATA_KEY)
    changes = metadata.get(TYPE_CHANGES_METADATA_KEY)
    added_value = dict(added.value) if added else {}  # type: ignore[call-overload]
    changes_value = list(changes.value) if changes else []  # type: ignore[call-overload]
    return AssetCheckResult(
        passed=not added_value and not changes_value,
        severity=AssetCheckSeverity.WARN,
        description=_drift_description(added_value, changes_value),
        metadata={
            "columns_added": MetadataValue.json(added_value),
            "type_changes": MetadataValue.json(changes_value),
        },
    )


@dataclass(frozen=True)
class QualityCheck:
    """One check: its spec (name, blocking, description) and how it is evaluated."""

    spec: AssetCheckSpec
    evaluate: Callable[[AssetCheckExecutionContext, DestinationResource], AssetCheckResult]


def _spec(name: str, blocking: bool, description: str) -> AssetCheckSpec:
    return AssetCheckSpec(
        name, asset=INVENTORY_DATA_KEY, blocking=blocking, description=description
    )


QUALITY_CHECKS = [
    QualityCheck(_spec("id_is_unique", True, "Every `id` appears once."), id_is_unique),
    QualityCheck(
        _spec("required_columns_not_null", True, f"{', '.join(REQUIRED_COLUMNS)} are never null."),
        required_columns_not_null,
    ),
    QualityCheck(
        _spec("quantity_not_negative", True, "`quantity` is never negative."),
        quantity_not_negative,
    ),
    QualityCheck(
        _spec(
            "updated_at_in_window",
            False,
            "Rows of the latest load have `updated_at` inside the window it asked for.",
        ),
        updated_at_in_window,
    ),
    QualityCheck(
        _spec(
            "no_rejected_records",
            False,
            f"The latest load rejected no record (rejects go to `{REJECTED_TABLE}`).",
        ),
        no_rejected_records,
    ),
    QualityCheck(
        _spec(
            "schema_drift",
            False,
            "The latest load added no vendor column and no declared column changed its type.",
        ),
        schema_drift,
    ),
]


@multi_asset_check(
    specs=[check.spec for check in QUALITY_CHECKS],
    can_subset=True,
    name="inventory_data_quality",
)
def inventory_data_quality(
    context: AssetCheckExecutionContext, destination: DestinationResource
) -> Iterator[AssetCheckResult]:
    """All quality checks in one step: a step is a process under Dagster's default
    executor, and five processes cost more than the five queries."""
    for check in QUALITY_CHECKS:
        if check.spec.key in context.selected_asset_check_keys:
            result = check.evaluate(context, destination)
            yield result._replace(check_name=check.spec.name, asset_key=INVENTORY_DATA_KEY)


# With the reconciliation against the API (reconciliation.py), partitioned like the asset.
quality_checks: list[AssetChecksDefinition] = [inventory_data_quality, rows_match_api]
