"""Another vendor, side by side: `dg scaffold defs inventory_assets.InventoryApiComponent
vendors/acme` writes `vendors/acme/defs.yaml`.

The new instance starts as the shipped one (its endpoints, every setting), with:
- its own group, named after the folder (or `--json-params '{"group": "acme"}'`): its
  asset keys, dataset, jobs, sensors, checks and resource keys follow from it;
- its own variables for the API and the endpoints (`ACME_API_BASE_URL`,
  `ACME_API_KEY`, ...; `env_prefix` to choose) and its own pool (`acme_api_calls`);
- the warehouse, executor, partitions, freshness and sensor settings left the code
  location's (`INVENTORY_*`), so both vendors load into one warehouse, in two datasets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from dagster import Scaffolder, ScaffoldRequest
from pydantic import BaseModel, Field

from inventory_assets.settings import DEFS_YAML, IDENTIFIER, SettingsError, variables_read

SHIPPED_PREFIX = "INVENTORY_"
ENV_PREFIX = r"[A-Z][A-Z0-9_]*_"
# The sections a vendor has of its own; the rest are the code location's.
VENDOR_SECTIONS = ("api", "endpoints")
HEADER = """\
# A vendor of its own, scaffolded from inventory_assets/defs/inventory_api/defs.yaml
# (whose comments say what each setting does; docs/configuration.md lists them).
# Its assets, dataset, jobs, sensors and resources are named after its group;
# it reads its API from {prefix}* variables, and shares the warehouse, executor,
# partitions, freshness and sensor settings (INVENTORY_*) of the code location.
"""


class VendorParams(BaseModel):
    """What `--json-params` may say; each is derived from the folder when left out."""

    group: str | None = Field(
        default=None, description="The instance's group (asset key prefix); default: the folder"
    )
    env_prefix: str | None = Field(
        default=None, description="Prefix of its API's variables; default: the group, upper-cased"
    )


def _renamed(value: Any, prefix: str) -> Any:
    """`value` with every variable it reads moved from INVENTORY_* to `prefix`*."""
    if isinstance(value, dict):
        return {key: _renamed(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, prefix) for item in value]
    if isinstance(value, str):
        return value.replace(SHIPPED_PREFIX, prefix)
    return value


def vendor_document(shipped: dict[str, Any], group: str, prefix: str) -> dict[str, Any]:
    """The shipped component document, as another vendor's instance."""
    attributes = dict(shipped["attributes"])
    for section in VENDOR_SECTIONS:
        attributes[section] = _renamed(attributes[section], prefix)
    attributes["api"]["pool"] = f"{{{{ env('{prefix}API_POOL', '{group}_api_calls') }}}}"
    attributes = {"group": group, **attributes}
    return {
        "type": shipped["type"],
        "requirements": {"env": sorted(variables_read(attributes))},
        "attributes": attributes,
    }


def _checked(value: str, pattern: str, what: str) -> str:
    """`value`, or the one-line error that says how to give another."""
    if not re.fullmatch(pattern, value):
        raise SettingsError(
            f"{what} {value!r} does not match {pattern}: give one with --json-params"
            f' \'{{"group": "acme", "env_prefix": "ACME_"}}\''
        )
    return value


class InventoryApiScaffolder(Scaffolder[VendorParams]):
    """Writes a second vendor's defs.yaml (see the module)."""

    @classmethod
    def get_scaffold_params(cls) -> type[VendorParams]:
        return VendorParams

    def scaffold(self, request: ScaffoldRequest[VendorParams]) -> None:
        params = request.params or VendorParams()
        group = _checked(params.group or Path(request.target_path).name, IDENTIFIER, "The group")
        prefix = _checked(params.env_prefix or f"{group.upper()}_", ENV_PREFIX, "The env_prefix")
        shipped = yaml.safe_load(DEFS_YAML.read_text())
        document = vendor_document(shipped, group, prefix)
        target = Path(request.target_path) / "defs.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        body = yaml.safe_dump(document, sort_keys=False, width=100, allow_unicode=True)
        target.write_text(HEADER.format(prefix=prefix) + body)
