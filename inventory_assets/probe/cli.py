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

from inventory_assets.defs.inventory_api.resources import VendorApiResource
from inventory_assets.probe.behaviour import MAX_REQUESTS, probe
from inventory_assets.settings import InventorySettings
from inventory_assets.sources.inventory_api import Endpoint
from inventory_assets.vendor_cli import add_vendor_arguments, run

PROG = "inventory-api-probe"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    add_vendor_arguments(parser, "probe")
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def _probe(_: InventorySettings, endpoint: Endpoint, vendor_api: VendorApiResource) -> int:
        vendor_api.checked_base_url(endpoint)
        client = vendor_api.client(max_retries=1)
        auth = vendor_api.auth_as_written()
        report = probe(client, endpoint, endpoint.sync_mode, auth, budget=args.max_requests)
        print(report.as_text())  # noqa: T201
        return 0 if report.loads_correctly else 1

    return run(PROG, args, _probe)


if __name__ == "__main__":
    sys.exit(main())
