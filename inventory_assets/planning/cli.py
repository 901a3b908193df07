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
from datetime import date
from pathlib import Path

import requests
from dagster import DagsterInvalidConfigError, Failure

from inventory_assets.defs.inventory_api.resources import VendorApiResource, vendor_api_resource
from inventory_assets.planning.counts import plan_with
from inventory_assets.planning.plan import PlanError, days_of
from inventory_assets.planning.report import as_text, budget_line
from inventory_assets.settings import DEFS_YAML, SettingsError, settings_from_yaml
from inventory_assets.sources.inventory_api import Endpoint
from inventory_assets.sources.inventory_api.errors import InventoryApiError, explain

PROG = "inventory-api-plan"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: give YYYY-MM-DD") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="first", type=_day, required=True, help="first day")
    parser.add_argument("--to", dest="last", type=_day, required=True, help="last day, included")
    parser.add_argument("--endpoint", default="inventory_data", help="an endpoint of defs.yaml")
    parser.add_argument(
        "--defs", type=Path, default=DEFS_YAML, help="the defs.yaml of the vendor to plan for"
    )
    parser.add_argument(
        "--max-requests", type=int, default=None, help="exit 1 if the load would make more"
    )
    return parser


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)  # noqa: T201 - a console script's one line
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
    try:
        days = days_of(args.first, args.last, settings.partitions_start)
    except PlanError as error:
        return _fail(str(error), 2)
    # The resource a run gets, its variables read now: one way to the vendor.
    resource = vendor_api_resource(settings.api)
    try:
        with resource.process_config_and_initialize_cm() as vendor_api:
            return _plan(vendor_api, endpoint, days, args.max_requests)
    except DagsterInvalidConfigError:
        return _fail("INVENTORY_API_BASE_URL and the API's credentials must be set.", 2)


def _plan(
    vendor_api: VendorApiResource, endpoint: Endpoint, days: tuple[date, ...], budget: int | None
) -> int:
    try:
        plan = plan_with(vendor_api, endpoint, days, budget)
    except PlanError as error:
        return _fail(str(error), 2)
    except Failure as failure:
        return _fail(str(failure.description), 2)
    except (requests.RequestException, InventoryApiError) as error:
        return _fail(str(explain(error, vendor_api.base_url, 1) or error), 1)
    print(as_text(plan))  # noqa: T201
    if plan.over_budget:
        return _fail(f"{budget_line(plan)} Refusing the backfill (--max-requests).", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
