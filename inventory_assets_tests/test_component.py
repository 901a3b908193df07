"""The component as dg sees it: a typed model of defs.yaml, loaded with dg's own sandbox.

The model is derived from the settings (attributes.py), so each field, type and
default is declared once, in settings.py; these tests hold dg's view to it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import AssetKey
from dagster.components.testing import create_defs_folder_sandbox
from pydantic import BaseModel

from inventory_assets import InventoryApiComponent
from inventory_assets.defs.inventory_api.attributes import component_model, written_model
from inventory_assets.settings import (
    DEFS_YAML,
    ApiSettings,
    InventorySettings,
    SettingsError,
    variables_read,
)
from inventory_assets.sources.inventory_api.contract import Endpoint, Paginator
from inventory_assets_tests.conftest import no_inventory_environment

ROOT = Path(__file__).resolve().parents[1]
DG = str(Path(sys.executable).parent / "dg")


def _document() -> dict[str, Any]:
    return yaml.safe_load(DEFS_YAML.read_text())


def test_requirements_list_every_variable_the_yaml_reads() -> None:
    document = _document()
    read = variables_read(document["attributes"])

    assert sorted(document["requirements"]["env"]) == sorted(read)
    assert {"INVENTORY_API_KEY", "INVENTORY_TOTAL_PATH", "INVENTORY_ENDPOINT_PATH"} <= read


def test_the_model_has_the_settings_fields_and_defaults_at_every_level() -> None:
    """Derived, not copied: a field added to the settings is a field of the YAML."""
    pairs = [(InventorySettings, component_model())]
    while pairs:
        settings, written = pairs.pop()
        assert list(written.model_fields) == list(settings.model_fields), settings.__name__
        for name, info in settings.model_fields.items():
            assert written.model_fields[name].default == info.default, f"{settings}.{name}"
            nested = info.annotation
            if isinstance(nested, type) and issubclass(nested, BaseModel):
                pairs.append((nested, written.model_fields[name].annotation))
    assert written_model(ApiSettings) is component_model().model_fields["api"].annotation


def test_the_endpoint_the_source_takes_has_no_default_of_its_own() -> None:
    """An endpoint's defaults (data selector, cursor, paging, sync mode, deletes) are the
    settings' alone: the dlt source's description of it is always built from them."""
    assert [field.name for field in fields(Endpoint) if field.default is not MISSING] == []
    assert [field.name for field in fields(Paginator) if field.default is not MISSING] == []


def test_inspect_component_prints_a_schema_of_every_yaml_field() -> None:
    completed = subprocess.run(
        [DG, "utils", "inspect-component", "inventory_assets.InventoryApiComponent"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    schema = json.loads(completed.stdout.split("Component schema:", 1)[1])
    api = schema["$defs"]["ApiAttributes"]["properties"]
    assert set(_document()["attributes"]) <= set(schema["properties"])
    assert {"auth", "page_size", "window_start_param", "total_path"} <= set(api)
    assert api["page_size"]["default"] == 100
    endpoint = schema["$defs"]["EndpointAttributes"]["properties"]
    assert {"paginator", "params", "data_selector", "sync_mode", "deletes"} <= set(endpoint)


def test_dgs_sandbox_loads_the_component_and_builds_its_assets() -> None:
    with (
        no_inventory_environment(),
        pytest.MonkeyPatch.context() as patch,
        create_defs_folder_sandbox() as sandbox,
    ):
        patch.setenv("INVENTORY_API_BASE_URL", "http://127.0.0.1:9")
        path = sandbox.scaffold_component(
            InventoryApiComponent, defs_path="inventory_api", defs_yaml_contents=_document()
        )
        with sandbox.load_component_and_build_defs(defs_path=path) as (component, defs):
            assert isinstance(component, InventoryApiComponent)
            assert component.settings.api.page_size == 100
            keys = set(defs.resolve_all_asset_keys())
    assert {
        AssetKey(["inventory", "inventory_data"]),
        AssetKey(["inventory", "warehouses"]),
    } <= keys


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"api": {"page_sise": 3}}, "(api.page_sise in defs.yaml)"),
        ({"api": {"api_key": "sk-literal"}}, "(api.api_key in defs.yaml): must name"),
        (
            {"endpoints": {"inventory_data": {"paginator": {"type": "header_link", "x": 1}}}},
            "(endpoints.inventory_data.paginator.x in defs.yaml): header_link takes no x",
        ),
    ],
)
def test_yaml_dg_refuses_still_ends_in_one_line_naming_the_field(
    change: dict[str, Any], says: str
) -> None:
    document = _document()
    for section, values in change.items():
        for key, value in values.items():
            target = document["attributes"][section]
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                target[key].update(value)
            else:
                target[key] = value
    with create_defs_folder_sandbox() as sandbox:
        path = sandbox.scaffold_component(
            InventoryApiComponent, defs_path="inventory_api", defs_yaml_contents=document
        )
        # dg wraps the validation error in its own; the one line is found inside it.
        with (
            pytest.raises(Exception) as refused,
            sandbox.load_component_and_build_defs(defs_path=path),
        ):
            pass
    explained = SettingsError.of_yaml(refused.value, component_model().__name__)
    assert explained is not None and says in str(explained), refused.value
    assert "\n" not in str(explained)


def _field_of(model: type[BaseModel], path: str) -> bool:
    """Whether the dotted `path` (`api.page_size`) is a field of the YAML model."""
    for part in path.split("."):
        if part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        model = annotation if isinstance(annotation, type) else BaseModel
    return True


def test_the_configuration_page_names_every_variable_and_only_real_fields() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    for variable in _document()["requirements"]["env"]:
        assert f"`{variable}`" in page, variable
    named = set(re.findall(r"\| `(?:api|warehouse|freshness|sensors)\.[a-z_.]+`", page))
    fields = [name.removeprefix("| `").rstrip("`") for name in named]
    assert fields and all(_field_of(component_model(), field) for field in fields), fields
