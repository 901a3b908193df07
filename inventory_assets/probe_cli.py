"""`inventory-api-probe`: does the configured vendor keep our contract, and what must change?

Reads the same settings as the code location (defs.yaml and the environment),
asks the vendor at most `--max-requests` small questions, prints a table of
findings and the settings this vendor needs as environment lines to paste.
Exits 0 when the current settings load the vendor correctly, 1 when they do
not (or the vendor cannot be asked), 2 for a bad setting. Never prints the key.
"""

from __future__ import annotations

import argparse
import sys

import requests

from inventory_assets.lib.probe import MAX_REQUESTS, probe
from inventory_assets.settings import SettingsError, read_reference, settings_from_yaml
from inventory_assets.sources.inventory_api.errors import explain


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inventory-api-probe", description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", default="inventory_data", help="an endpoint of defs.yaml")
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_from_yaml()
    except SettingsError as error:
        print(error, file=sys.stderr)  # noqa: T201 - a console script's one line
        return 2
    endpoint_settings = settings.endpoints.get(args.endpoint)
    base_url, api_key = read_reference(settings.api.base_url), read_reference(settings.api.api_key)
    if endpoint_settings is None or not base_url or not api_key:
        missing = "INVENTORY_API_BASE_URL and INVENTORY_API_KEY must be set"
        problem = (
            f"no endpoint {args.endpoint!r} in defs.yaml" if endpoint_settings is None else missing
        )
        print(f"inventory-api-probe: {problem}.", file=sys.stderr)  # noqa: T201
        return 2
    try:
        report = probe(
            base_url,
            api_key,
            endpoint_settings.endpoint(args.endpoint),
            settings.api.options(),
            endpoint_settings.sync_mode,
            budget=args.max_requests,
        )
    except requests.RequestException as error:
        print(f"inventory-api-probe: {explain(error, base_url, 1) or error}", file=sys.stderr)  # noqa: T201
        return 1
    print(report.as_text())  # noqa: T201
    return 0 if report.loads_correctly else 1


if __name__ == "__main__":
    sys.exit(main())
