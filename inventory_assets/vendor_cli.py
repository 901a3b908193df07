"""What the console scripts over the configured vendor share (`inventory-api-probe`,
`inventory-api-plan`): the same settings and vendor resource as a run, one line per error.

Each script reads defs.yaml and the environment as the code location does, picks
one endpoint, builds the vendor resource a run gets and hands it to its own
action. Exit codes are the same for both: 2 for a bad setting or argument, 1
for a vendor that cannot be asked (and each script's own "no"), 0 otherwise;
an error is one line on stderr, never with a secret in it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import requests
from dagster import DagsterInvalidConfigError, Failure

from inventory_assets.defs.inventory_api.resources import VendorApiResource, vendor_api_resource
from inventory_assets.settings import (
    DEFS_YAML,
    InventorySettings,
    SettingsError,
    settings_from_yaml,
)
from inventory_assets.sources.inventory_api import Endpoint
from inventory_assets.sources.inventory_api.errors import InventoryApiError, explain

# What a script does once it has the settings, the endpoint and the vendor: an exit code.
Action = Callable[[InventorySettings, Endpoint, VendorApiResource], int]


class ConsoleError(Exception):
    """An expected failure of a script: its one line, and the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def add_vendor_arguments(parser: argparse.ArgumentParser, purpose: str) -> None:
    """`--endpoint` and `--defs`: which endpoint of which instance's defs.yaml."""
    parser.add_argument("--endpoint", default="inventory_data", help="an endpoint of defs.yaml")
    parser.add_argument(
        "--defs", type=Path, default=DEFS_YAML, help=f"the defs.yaml of the vendor to {purpose}"
    )


def run(prog: str, args: argparse.Namespace, action: Action) -> int:
    """`action` with the settings, the endpoint `args` name and the vendor; its exit code."""
    try:
        settings = settings_from_yaml(args.defs)
    except SettingsError as error:
        print(error, file=sys.stderr)  # noqa: T201 - a console script's one line
        return 2
    try:
        return _run(settings, args, action)
    except ConsoleError as error:
        print(f"{prog}: {error}", file=sys.stderr)  # noqa: T201 - a console script's one line
        return error.code


def _run(settings: InventorySettings, args: argparse.Namespace, action: Action) -> int:
    endpoint_settings = settings.endpoints.get(args.endpoint)
    if endpoint_settings is None:
        raise ConsoleError(f"no endpoint {args.endpoint!r} in {args.defs}.", 2)
    endpoint = endpoint_settings.endpoint(args.endpoint, settings.api)
    # The resource a run gets, its variables read now: one way to the vendor.
    resource = vendor_api_resource(settings.api)
    try:
        with resource.process_config_and_initialize_cm() as vendor_api:
            return _asking(vendor_api, lambda: action(settings, endpoint, vendor_api))
    except DagsterInvalidConfigError:
        raise ConsoleError(
            "INVENTORY_API_BASE_URL and the API's credentials must be set.", 2
        ) from None


def _asking(vendor_api: VendorApiResource, call: Callable[[], int]) -> int:
    """`call`, with a bad setting (a Failure) and a vendor that cannot be asked as one line."""
    try:
        return call()
    except Failure as failure:
        raise ConsoleError(str(failure.description), 2) from None
    except (requests.RequestException, InventoryApiError) as error:
        raise ConsoleError(str(explain(error, vendor_api.base_url, 1) or error), 1) from None
