"""`inventory-api-probe`: how the configured vendor pages and authenticates, and what must change.

Reads the same settings as the code location (defs.yaml and the environment),
builds the same vendor resource a run uses, asks the vendor at most
`--max-requests` small questions, and prints a table of findings, the
`defs.yaml` fragment that describes the vendor's shape, and the settings it
needs as environment lines to paste. Exits 0 when the current settings load the
vendor correctly, 1 when they do not (or the vendor cannot be asked), 2 for a
bad setting. Never prints a secret.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import requests
from dagster import DagsterInvalidConfigError, Failure

from inventory_assets.defs.inventory_api.resources import VendorApiResource, vendor_api_resource
from inventory_assets.probe.behaviour import MAX_REQUESTS, probe
from inventory_assets.settings import DEFS_YAML, SettingsError, settings_from_yaml
from inventory_assets.sources.inventory_api import Endpoint
from inventory_assets.sources.inventory_api.errors import InventoryApiError, explain


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inventory-api-probe", description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", default="inventory_data", help="an endpoint of defs.yaml")
    parser.add_argument(
        "--defs", type=Path, default=DEFS_YAML, help="the defs.yaml of the vendor to probe"
    )
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS)
    return parser


def _fail(message: str, code: int) -> int:
    print(f"inventory-api-probe: {message}", file=sys.stderr)  # noqa: T201 - a console script's one line
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_from_yaml(args.defs)
    except SettingsError as error:
        print(error, file=sys.stderr)  # noqa: T201 - a console script's one line
        return 2
    endpoint_settings = settings.endpoints.get(args.endpoint)
    if endpoint_settings is None:
        return _fail(f"no endpoint {args.endpoint!r} in {args.defs}.", 2)
    endpoint = endpoint_settings.endpoint(args.endpoint, settings.api)
    # The resource a run gets, its variables read now: one way to the vendor.
    resource = vendor_api_resource(settings.api)
    try:
        with resource.process_config_and_initialize_cm() as vendor_api:
            return _probe(vendor_api, endpoint, args.max_requests)
    except DagsterInvalidConfigError:
        return _fail("INVENTORY_API_BASE_URL and the API's credentials must be set.", 2)


def _probe(vendor_api: VendorApiResource, endpoint: Endpoint, budget: int) -> int:
    try:
        vendor_api.checked_base_url(endpoint)
        client = vendor_api.client(max_retries=1)
    except Failure as failure:
        return _fail(str(failure.description), 2)
    try:
        report = probe(
            client, endpoint, endpoint.sync_mode, vendor_api.auth_as_written(), budget=budget
        )
    except (requests.RequestException, InventoryApiError) as error:
        return _fail(str(explain(error, client.base_url, 1) or error), 1)
    print(report.as_text())  # noqa: T201
    return 0 if report.loads_correctly else 1


if __name__ == "__main__":
    sys.exit(main())
