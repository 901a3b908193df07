"""Quality checks on inventory_data: pass on good data, fail on bad data, block downstream."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import duckdb
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    AssetSelection,
    DagsterInstance,
    MaterializeResult,
    asset,
    materialize,
)

from inventory_assets.defs.inventory_api.checks import latest_metadata
from inventory_assets_tests.conftest import (
    INVENTORY_DATA_KEY,
    day_window,
    expected_records,
    inventory_endpoint,
    load_checks,
    shipped_marts,
)


def _pipeline() -> list:
    """inventory_data, its load checks and the downstream assets."""
    return [inventory_endpoint().assets, *load_checks(), *shipped_marts().assets]


DOWNSTREAM = {"inventory/stock_levels", "inventory/low_stock_items"}


def _run(resources: dict, day: str, instance: DagsterInstance, **kwargs):
    """inventory_data for `day`, its quality checks and the downstream assets, in one run."""
    return materialize(
        _pipeline(),
        resources=resources,
        partition_key=day,
        instance=instance,
        raise_on_error=False,
        **kwargs,
    )


def _checks(result) -> dict[str, object]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_all_checks_pass_on_good_data_and_downstream_runs(
    simulator, resources, instance: DagsterInstance
) -> None:
    result = _run(resources, "2026-11-02", instance)

    assert result.success
    assert {name: e.passed for name, e in _checks(result).items()} == {
        "id_is_unique": True,
        "required_columns_not_null": True,
        "quantity_not_negative": True,
        "updated_at_in_window": True,
        "no_rejected_records": True,
        "schema_drift": True,
        "rows_match_api": True,
    }
    assert _materialized(result) == {"inventory/inventory_data", *DOWNSTREAM}


def test_a_negative_quantity_fails_its_check_and_blocks_downstream(
    simulator, resources, instance: DagsterInstance
) -> None:
    bad_id = expected_records(simulator, *day_window("2026-11-02"))[3]["id"]
    simulator.touch([bad_id], datetime(2026, 11, 2, 12, tzinfo=UTC), quantity=-5)

    result = _run(resources, "2026-11-02", instance)

    check = _checks(result)["quantity_not_negative"]
    assert not check.passed
    assert check.severity == AssetCheckSeverity.ERROR
    assert check.metadata["sample_ids"].value == [bad_id]
    assert _materialized(result) == {"inventory/inventory_data"}, "downstream must not run"


def test_a_duplicate_id_fails_its_check_and_blocks_downstream(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    _run(resources, "2026-11-02", instance)
    duplicated = expected_records(simulator, *day_window("2026-11-02"))[0]["id"]
    with duckdb.connect(str(duckdb_path)) as con:
        con.execute(
            "insert into inventory.inventory_data select * from inventory.inventory_data"
            f" where id = {duplicated}"
        )

    result = _run(resources, "2026-11-03", instance)

    check = _checks(result)["id_is_unique"]
    assert not check.passed
    assert check.metadata["sample_ids"].value == [duplicated]
    assert _materialized(result) == {"inventory/inventory_data"}


def test_a_null_required_value_fails_its_check_and_blocks_downstream(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    _run(resources, "2026-11-02", instance)
    broken = expected_records(simulator, *day_window("2026-11-02"))[1]["id"]
    with duckdb.connect(str(duckdb_path)) as con:
        con.execute("alter table inventory.inventory_data alter column inventory_id drop not null")
        con.execute(f"update inventory.inventory_data set inventory_id = null where id = {broken}")

    result = _run(resources, "2026-11-03", instance)

    check = _checks(result)["required_columns_not_null"]
    assert not check.passed
    assert check.metadata["sample_ids"].value == [broken]
    assert _materialized(result) == {"inventory/inventory_data"}


def test_rows_outside_the_loaded_window_warn(
    simulator, resources, duckdb_path: Path, instance: DagsterInstance
) -> None:
    _run(resources, "2026-11-02", instance)
    moved = expected_records(simulator, *day_window("2026-11-02"))[0]["id"]
    with duckdb.connect(str(duckdb_path)) as con:
        con.execute(
            "update inventory.inventory_data set updated_at = timestamptz '2026-11-09 10:00:00+00'"
            f" where id = {moved}"
        )

    result = materialize(
        [inventory_endpoint().assets, *load_checks()],
        resources=resources,
        instance=instance,
        selection=AssetSelection.checks(AssetCheckKey(INVENTORY_DATA_KEY, "updated_at_in_window")),
    )

    check = _checks(result)["updated_at_in_window"]
    assert not check.passed
    assert check.severity == AssetCheckSeverity.WARN
    assert check.metadata["sample_ids"].value == [moved]


def test_checks_pass_before_any_row_was_loaded(
    simulator, resources, instance: DagsterInstance
) -> None:
    result = _run(resources, "2026-10-20", instance)

    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())


def test_a_check_reads_its_own_runs_load_even_when_another_is_newer() -> None:
    """The load a check judges is its own run's; a run without one takes the newest."""
    key = AssetKey(["inventory", "inventory_data"])

    @asset(key=key)
    def loaded(context) -> MaterializeResult:  # untyped: this module defers annotations
        return MaterializeResult(metadata={"load": context.run.run_id})

    with DagsterInstance.ephemeral() as instance:
        own, newer = (materialize([loaded], instance=instance).run_id for _ in range(2))

        def judged_by(run_id: str) -> str:
            context = SimpleNamespace(instance=instance, run=SimpleNamespace(run_id=run_id))
            return latest_metadata(context, key)["load"].value  # type: ignore[arg-type,index]

        assert judged_by(own) == own
        assert judged_by(newer) == newer
        assert judged_by("a-run-that-loaded-nothing") == newer

        # However many loads came after it (other partitions, other runs).
        for later in range(150):
            instance.report_runless_asset_event(
                AssetMaterialization(key, metadata={"load": f"later-{later}"})
            )
        assert judged_by(own) == own
        assert judged_by("a-run-that-loaded-nothing") == "later-149"
