"""`inventory-api-plan`: what a backfill of daily partitions will cost, asked before it runs.

Reads the same settings as the code location (defs.yaml and the environment),
builds the same vendor resource a run uses, asks the vendor one cheap request
per day (and one for the whole listing), and prints each day's records, the
pages, requests and time the load will take, and the days whose totals look
wrong. Exits 0, or 1 when the plan exceeds `--max-requests` (so a script can
refuse a backfill that would blow the vendor's quota) or the vendor cannot be
asked, 2 for a bad setting or argument. Never prints a secret.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date

from inventory_assets.defs.inventory_api.resources import VendorApiResource
from inventory_assets.planning.counts import plan_with
from inventory_assets.planning.plan import PlanError, days_of, parse_day
from inventory_assets.planning.report import as_text, budget_line
from inventory_assets.settings import InventorySettings
from inventory_assets.sources.inventory_api import Endpoint
from inventory_assets.vendor_cli import ConsoleError, add_vendor_arguments, run

PROG = "inventory-api-plan"


def _day(name: str) -> Callable[[str], date]:
    """The argparse type of the option `name`: a day, or its one-line error."""

    def parse(text: str) -> date:
        try:
            return parse_day(text, name)
        except PlanError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--from", dest="first", type=_day("--from"), required=True, help="first day")
    add("--to", dest="last", type=_day("--to"), required=True, help="last day, included")
    add_vendor_arguments(parser, "plan for")
    parser.add_argument(
        "--max-requests", type=int, default=None, help="exit 1 if the load would make more"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def _plan(
        settings: InventorySettings, endpoint: Endpoint, vendor_api: VendorApiResource
    ) -> int:
        try:
            days = days_of(args.first, args.last, settings.partitions_start)
            plan = plan_with(vendor_api, endpoint, days, args.max_requests)
        except PlanError as error:
            raise ConsoleError(str(error), 2) from None
        print(as_text(plan))  # noqa: T201
        if plan.over_budget:
            raise ConsoleError(f"{budget_line(plan)} Refusing the backfill (--max-requests).", 1)
        return 0

    return run(PROG, args, _plan)


if __name__ == "__main__":
    sys.exit(main())
