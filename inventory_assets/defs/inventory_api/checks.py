"""Quality checks on an ingested table, evaluated in the warehouse after each load.

Blocking (severity ERROR), because any of them makes every downstream sum wrong,
so a run that loads such data stops before its downstream assets: a duplicate
primary key (`<key>_is_unique`), a null in a column that is not nullable
(`required_columns_not_null`), a negative value where the endpoint declares
none (`<column>_not_negative`).

Warnings: `<cursor>_in_window` (rows of the latest load outside the window it
asked for: the API ignored the window), `no_rejected_records` (records that
broke the contract were set aside; the rest is sound) and `schema_drift` (the
vendor added fields, or sent a declared column as another type). The
reconciliation with the API, `rows_match_api`, lives in `reconciliation.py`.
All of them gate the automated downstream refresh (see `marts.py`).
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
    AssetKey,
    AssetRecordsFilter,
    DagsterEventType,
    MetadataValue,
    multi_asset_check,
)

from inventory_assets.defs.inventory_api.endpoint_spec import EndpointSpec
from inventory_assets.defs.inventory_api.load_metadata import LoadMetadata
from inventory_assets.loading import rejected_table
from inventory_assets.sources.inventory_api import Endpoint
from inventory_assets.warehouse.destination import DestinationResource, WarehouseConnection

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class Offenders:
    """Rows that break a rule: how many, and the first few keys to look at."""

    count: int
    sample_ids: list

    @property
    def passed(self) -> bool:
        return self.count == 0


Evaluate = Callable[
    [AssetCheckExecutionContext, DestinationResource, EndpointSpec], AssetCheckResult
]


@dataclass(frozen=True)
class QualityRule:
    """One rule: its check spec (name, blocking, description) and how it is evaluated."""

    spec: AssetCheckSpec
    evaluate: Evaluate


def find_offenders(
    con: WarehouseConnection, key: str, query: str, params: Sequence = ()
) -> Offenders:
    """Run a query that selects the key `key` of every offending row."""
    count, sample = con.fetchone(
        f"select count(*), (array_agg({key} order by {key}))[1:{SAMPLE_SIZE}]"
        f" from ({query}) as offenders",
        params,
    )
    return Offenders(count=count, sample_ids=list(sample or []))


def _result(offenders: Offenders, what: str, severity: AssetCheckSeverity) -> AssetCheckResult:
    description = (
        f"No rows with {what}."
        if offenders.passed
        else f"{offenders.count} rows with {what}; first keys: {offenders.sample_ids}"
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
    table: EndpointSpec,
    what: str,
    query: str,
    params: Sequence = (),
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
) -> AssetCheckResult:
    """Evaluate one rule; a table that no load has created yet is not evidence of anything."""
    name = table.endpoint.name
    with destination.connect() as con:
        if not destination.has_table(con, name):
            return _not_verified(
                f"There is no table {destination.table(name)} yet: no load has created it, so"
                " there is nothing to check."
            )
        key = table.endpoint.primary_key
        sql = query.format(table=destination.table(name), key=key)
        offenders = find_offenders(con, key, sql, params)
    return _result(offenders, what, severity)


def _not_verified(reason: str) -> AssetCheckResult:
    """A check that had nothing to look at: a warning that says why, never a pass."""
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.WARN,
        description=f"Not verified. {reason} Materialize the asset, then run its checks.",
        metadata={"verified": MetadataValue.bool(False)},
    )


NO_LOAD = "No load of the asset is recorded, so there is nothing to check."


def key_is_unique(
    context: AssetCheckExecutionContext, destination: DestinationResource, table: EndpointSpec
) -> AssetCheckResult:
    return _check_table(
        destination,
        table,
        f"a duplicate {table.endpoint.primary_key}",
        "select {key} from {table} group by {key} having count(*) > 1",
    )


def _required(endpoint: Endpoint) -> list[str]:
    return [column.name for column in endpoint.columns if not column.nullable]


def required_columns_not_null(
    context: AssetCheckExecutionContext, destination: DestinationResource, table: EndpointSpec
) -> AssetCheckResult:
    any_null = " or ".join(f"{column} is null" for column in _required(table.endpoint))
    return _check_table(
        destination,
        table,
        "a null required value",
        f"select {{key}} from {{table}} where {any_null}",
    )


def not_negative(column: str) -> Evaluate:
    def evaluate(
        context: AssetCheckExecutionContext, destination: DestinationResource, table: EndpointSpec
    ) -> AssetCheckResult:
        return _check_table(
            destination,
            table,
            f"a negative {column}",
            f"select {{key}} from {{table}} where {column} < 0",
        )

    return evaluate


@dataclass(frozen=True)
class LoadWindow:
    """The window and dlt load ids a materialization recorded."""

    start: datetime
    end: datetime
    load_ids: list[str]


def latest_metadata(
    context: AssetCheckExecutionContext, key: AssetKey
) -> Mapping[str, MetadataValue] | None:
    """Metadata of this run's materialization of `key`, else of the newest one.

    This run's own events are read first, by run id: a check that runs with
    its load (the usual case) never reads the asset's history, however long
    it is, nor misses its load behind other partitions' newer ones.
    """
    own = context.instance.get_records_for_run(
        context.run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION, ascending=False
    ).records
    for record in own:
        materialization = record.asset_materialization
        if materialization is not None and materialization.asset_key == key:
            return materialization.metadata
    newest = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key), limit=1, ascending=False
    ).records
    return newest[0].asset_materialization.metadata if newest else None  # type: ignore[union-attr]


def latest_load(context: AssetCheckExecutionContext, key: AssetKey) -> LoadMetadata | None:
    """What the latest load of `key` recorded (see `latest_metadata`), as the asset wrote it."""
    metadata = latest_metadata(context, key)
    return None if metadata is None else LoadMetadata.extract(metadata)


def _latest_load(context: AssetCheckExecutionContext, key: AssetKey) -> LoadWindow | None:
    """The window and dlt load ids the latest load recorded."""
    load = latest_load(context, key)
    if load is None or not load.window_start or not load.window_end:
        return None
    return LoadWindow(
        start=datetime.fromisoformat(load.window_start),
        end=datetime.fromisoformat(load.window_end),
        load_ids=load.load_ids,
    )


def cursor_in_window(
    context: AssetCheckExecutionContext, destination: DestinationResource, table: EndpointSpec
) -> AssetCheckResult:
    load = _latest_load(context, table.key)
    if load is None:
        return _not_verified(NO_LOAD)
    if not load.load_ids:
        # Evidence, not its absence: the load paged the window and wrote no row of it.
        return AssetCheckResult(
            passed=True,
            description=(
                f"The latest load, of [{load.start.isoformat()}, {load.end.isoformat()}), "
                "wrote no rows: none can lie outside its window."
            ),
        )
    cursor = table.endpoint.cursor_field
    placeholders = ", ".join("%s" for _ in load.load_ids)
    return _check_table(
        destination,
        table,
        f"{cursor} outside [{load.start.isoformat()}, {load.end.isoformat()})",
        f"select {{key}} from {{table}} where _dlt_load_id in ({placeholders})"
        f" and not ({cursor} >= %s and {cursor} < %s)",
        [*load.load_ids, load.start, load.end],
        severity=AssetCheckSeverity.WARN,
    )


def no_rejected_records(
    context: AssetCheckExecutionContext, destination: DestinationResource, table: EndpointSpec
) -> AssetCheckResult:
    load = latest_load(context, table.key)
    if load is None or load.rows_rejected is None:
        return _not_verified(NO_LOAD)
    count, sample = load.rows_rejected, load.rejected_sample
    rejects = rejected_table(table.endpoint.name)
    return AssetCheckResult(
        passed=count == 0,
        severity=AssetCheckSeverity.WARN,
        description=(
            "No record was rejected."
            if count == 0
            else f"{count} records broke the contract; see {rejects} and rejected_sample."
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
            f"The vendor added fields, now columns: {new}. Declare them in the endpoint's"
            " columns (defs/inventory_api/defs.yaml) to fix their types."
        )
    for name, found in variants.items():
        if found:
            parts.append(
                f"Vendor field `{found['column']}` now also arrives as {found['type']}; those"
                f" values went to the new column `{name}`."
            )
    return parts


def _drift_description(added: dict[str, str], changes: list[dict], rejects: str) -> str:
    if not added and not changes:
        return "The latest load saw the columns and types it saw before."
    parts = _added_description(added)
    for change in changes:
        parts.append(
            f"`{change['column']}` arrived as {change['seen']} instead of {change['expected']} "
            f"in {change['records']} records (first keys {change['ids']}); they were set aside"
            f" in {rejects}, not loaded as a new column."
        )
    return " ".join(parts)


def schema_drift(
    context: AssetCheckExecutionContext, destination: DestinationResource, table: EndpointSpec
) -> AssetCheckResult:
    load = latest_load(context, table.key)
    if load is None or load.type_changes is None:
        return _not_verified(NO_LOAD)
    added_value = dict(load.columns_added.value) if load.columns_added else {}
    changes_value = list(load.type_changes.value)
    return AssetCheckResult(
        passed=not added_value and not changes_value,
        severity=AssetCheckSeverity.WARN,
        description=_drift_description(
            added_value, changes_value, rejected_table(table.endpoint.name)
        ),
        metadata={
            "columns_added": MetadataValue.json(added_value),
            "type_changes": MetadataValue.json(changes_value),
        },
    )


def quality_rules(table: EndpointSpec) -> list[QualityRule]:
    """The rules for one table: its key, its required columns, its declared limits."""
    endpoint = table.endpoint

    def spec(name: str, blocking: bool, description: str) -> AssetCheckSpec:
        return AssetCheckSpec(name, asset=table.key, blocking=blocking, description=description)

    key, cursor = endpoint.primary_key, endpoint.cursor_field
    rules = [
        QualityRule(spec(f"{key}_is_unique", True, f"Every `{key}` appears once."), key_is_unique),
        QualityRule(
            spec(
                "required_columns_not_null",
                True,
                f"{', '.join(_required(endpoint))} are never null.",
            ),
            required_columns_not_null,
        ),
        *(
            QualityRule(
                spec(f"{column}_not_negative", True, f"`{column}` is never negative."),
                not_negative(column),
            )
            for column in endpoint.not_negative
        ),
    ]
    if table.windowed:
        rules.append(
            QualityRule(
                spec(
                    f"{cursor}_in_window",
                    False,
                    f"Rows of the latest load have `{cursor}` inside the window it asked for.",
                ),
                cursor_in_window,
            )
        )
    rejects = rejected_table(endpoint.name)
    rules += [
        QualityRule(
            spec(
                "no_rejected_records",
                False,
                f"The latest load rejected no record (rejects go to `{rejects}`).",
            ),
            no_rejected_records,
        ),
        QualityRule(
            spec(
                "schema_drift",
                False,
                "The latest load added no vendor column and no declared column changed its type.",
            ),
            schema_drift,
        ),
    ]
    return rules


def build_quality_checks(table: EndpointSpec) -> AssetChecksDefinition:
    """All quality checks of one table in one step: one query each, one step for all."""
    rules = quality_rules(table)

    @multi_asset_check(
        specs=[rule.spec for rule in rules],
        can_subset=True,
        name=f"{table.name}_quality",
    )
    @table.resources.injected
    def _quality(
        context: AssetCheckExecutionContext, destination: DestinationResource
    ) -> Iterator[AssetCheckResult]:
        for rule in rules:
            if rule.spec.key in context.selected_asset_check_keys:
                result = rule.evaluate(context, destination, table)
                yield result._replace(check_name=rule.spec.name, asset_key=table.key)

    return _quality
