"""The vendor under watch: `inventory/vendor_contract` observes, its check names a change.

The issue's scenario: the watch passes against the simulator; after the
simulator starts ignoring the window, the next observation fails naming the
window parameters and INVENTORY_SYNC_MODE=client_window, and keeps failing
until the change is accepted. In process, then through `dagster asset materialize`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from inventory_api_sim import InventoryApiSimulator
from inventory_assets.defs.inventory_api.resources import ResourceKeys, VendorApiResource
from inventory_assets.defs.inventory_api.vendor_contract import (
    ACCEPTED,
    CHECK_NAME,
    build_vendor_watch,
)
from inventory_assets.probe.behaviour import MAX_REQUESTS
from inventory_assets.probe.watch import Change, accepted_after, changes
from inventory_assets_tests import cli_runner
from inventory_assets_tests.cli_runner import materialize as cli_materialize
from inventory_assets_tests.cli_runner import materialize_args
from inventory_assets_tests.conftest import contract_endpoint, warehouses_endpoint
from inventory_assets_tests.support import TEST_API_KEY, doc_commands

KEY = AssetKey(["inventory", "vendor_contract"])
WINDOW = "inventory_data / window parameters honoured"
ACCEPT = {"ops": {"inventory__vendor_contract": {"config": {"accept_changes": True}}}}
PAGE = "docs/vendor-watch.md"


def _watch():
    endpoints = [contract_endpoint(), warehouses_endpoint().spec.endpoint]
    return build_vendor_watch(ResourceKeys("inventory"), endpoints, "vendor_api_calls").asset


def _observe(sim: InventoryApiSimulator, instance: DagsterInstance, run_config=None):
    """One run of the watch; its materialization's metadata and its check's evaluation."""
    result = materialize(
        [_watch()],
        resources={
            "inventory_vendor_api": VendorApiResource(base_url=sim.url, api_key=TEST_API_KEY)
        },
        instance=instance,
        run_config=run_config,
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    (materialization,) = result.asset_materializations_for_node("inventory__vendor_contract")
    return materialization.metadata, evaluation


def test_the_watch_records_the_vendors_behaviour_and_passes(simulator) -> None:
    metadata, evaluation = _observe(simulator, DagsterInstance.ephemeral())

    assert evaluation.check_name == CHECK_NAME and evaluation.passed
    assert metadata[WINDOW].value == "honoured as updated_since/updated_before"
    for behaviour in (
        "auth",
        "total present",
        "total consistent with the window",
        "page size honoured",
        "order stable",
        "timestamp format",
        "id type",
        "unknown fields",
        "nested fields",
        "rate-limit headers",
    ):
        assert f"inventory_data / {behaviour}" in metadata, behaviour
    assert metadata["inventory_data / id type"].value == "int"
    assert metadata["requests"].value <= 2 * MAX_REQUESTS, "at most 20 per endpoint"
    assert metadata[ACCEPTED].value["inventory_data"]["window parameters honoured"]


def test_a_vendor_that_starts_ignoring_the_window_fails_until_the_change_is_accepted(
    simulator,
) -> None:
    instance = DagsterInstance.ephemeral()
    _observe(simulator, instance)
    simulator.deviate(ignore_window=True)

    metadata, evaluation = _observe(simulator, instance)

    assert not evaluation.passed
    described = evaluation.description
    assert "window parameters honoured was 'honoured as updated_since/updated_before'" in described
    assert "INVENTORY_SYNC_MODE=client_window" in described
    assert "accept_changes: true" in described
    assert metadata[ACCEPTED].value["inventory_data"]["window parameters honoured"] == (
        "honoured as updated_since/updated_before"
    ), "the old behaviour stays accepted"
    assert not _observe(simulator, instance)[1].passed, "and the next run fails too"

    accepted = _observe(simulator, instance, ACCEPT)[1]
    assert accepted.passed and "Accepted" in accepted.description
    assert _observe(simulator, instance)[1].passed, "the new behaviour is the accepted one"


def test_a_key_that_moved_to_a_header_is_named_with_the_ways_vendors_take_one(simulator) -> None:
    instance = DagsterInstance.ephemeral()
    _observe(simulator, instance)
    simulator.deviate(auth="header")

    metadata, evaluation = _observe(simulator, instance)

    assert not evaluation.passed
    assert "auth was 'api_key accepted; required', now 'refused (HTTP 401)'" in (
        evaluation.description
    )
    assert "auth: {type: api_key, location: header, name: X-API-Key}" in evaluation.description
    assert TEST_API_KEY not in evaluation.description, "a key given in code is masked too"
    assert TEST_API_KEY not in str({k: v.value for k, v in metadata.items()})
    assert not metadata["loads_correctly"].value


def test_a_vendor_that_does_not_load_is_not_accepted_as_the_first_observation(simulator) -> None:
    instance = DagsterInstance.ephemeral()
    simulator.deviate(ignore_window=True)

    metadata, evaluation = _observe(simulator, instance)

    assert not evaluation.passed
    assert "No behaviour accepted yet" in evaluation.description
    assert "INVENTORY_SYNC_MODE=client_window" in evaluation.description
    assert metadata[ACCEPTED].value == {}, "nothing accepted"
    assert _observe(simulator, instance, ACCEPT)[1].passed, "unless accepted explicitly"
    assert _observe(simulator, instance)[1].passed


def test_a_field_missing_from_one_days_sample_is_no_change_and_a_new_one_is(simulator) -> None:
    instance = DagsterInstance.ephemeral()
    simulator.add_field("color", "red")
    _observe(simulator, instance)
    simulator.add_field("size", "XL")

    metadata, evaluation = _observe(simulator, instance)

    assert not evaluation.passed
    assert "unknown fields was 'color', now 'color, size'" in evaluation.description
    _observe(simulator, instance, ACCEPT)
    assert metadata["inventory_data / unknown fields"].value == "color, size"


def test_names_seen_in_a_sample_change_only_by_a_name_never_accepted() -> None:
    accepted = {"a": {"unknown fields": "color, size", "rate-limit headers": "none"}}

    assert changes(accepted, {"a": {"unknown fields": "color"}}) == []
    assert changes(accepted, {"a": {"unknown fields": "none"}}) == []
    (found,) = changes(accepted, {"a": {"rate-limit headers": "X-RateLimit-Limit"}})
    kept = accepted_after(accepted, {"a": {"unknown fields": "tags"}}, [], accept=False)
    assert kept["a"]["unknown fields"] == "color, size, tags", "every name seen so far"
    assert found.check == "rate-limit headers"


def test_a_change_is_what_differs_from_the_accepted_behaviour() -> None:
    accepted = {"a": {"auth": "api_key accepted; required", "total present": "at `total`"}}
    observed = {"a": {"auth": "api_key accepted; required", "total present": "absent"}}
    observed_more = {"a": {**observed["a"], "id type": "int"}, "b": {"auth": "x"}}

    found = changes(accepted, observed_more)

    assert found == [Change("a", "total present", "at `total`", "absent")]
    assert changes(accepted, {"a": {"id type": "int"}}) == [], "seen once is not a change"
    kept = accepted_after(accepted, observed_more, found, accept=False)
    assert kept["a"]["total present"] == "at `total`" and kept["a"]["id type"] == "int"
    assert kept["b"] == {"auth": "x"}
    assert accepted_after(accepted, observed, found, accept=True)["a"]["total present"] == "absent"


@pytest.mark.e2e
def test_through_the_cli_a_changed_vendor_fails_the_watch_naming_what_fits(
    simulator, duckdb_path: Path, tmp_path: Path
) -> None:
    env = cli_runner.cli_env(simulator.url, duckdb_path, tmp_path / "dagster_home")
    select = KEY.to_user_string()
    first = cli_runner.finish(cli_materialize(env, select=select))
    assert f"Asset check '{CHECK_NAME}' on '{select}' passed" in first

    simulator.deviate(ignore_window=True)
    changed = cli_materialize(env, select=select)
    output, _ = changed.communicate(timeout=180)

    assert changed.returncode == 1, output[-3000:]
    assert f"Asset check '{CHECK_NAME}' on '{select}' did not pass" in output
    assert "updated_since/updated_before" in output
    assert "INVENTORY_SYNC_MODE=client_window" in output
    assert TEST_API_KEY not in output
    accept = cli_materialize(env, "--config-json", json.dumps(ACCEPT), select=select)
    assert f"Asset check '{CHECK_NAME}' on '{select}' passed" in cli_runner.finish(accept)


def test_the_page_shows_the_commands_tested_here() -> None:
    select = KEY.to_user_string()
    shown = doc_commands(PAGE, "dagster asset materialize")
    assert shown == {
        ("dagster", *materialize_args(select=select)),
        ("dagster", *materialize_args("--config-json", json.dumps(ACCEPT), select=select)),
    }
