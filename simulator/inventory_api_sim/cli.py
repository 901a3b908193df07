"""`inventory-api-sim`: run the simulated inventory API until SIGINT or SIGTERM.

The demo and benchmarks start it as a subprocess, so it announces its URL on
one stdout line (with `--port 0` that line is the only way to learn the port)
and stops cleanly on a signal. The key is read from INVENTORY_API_KEY so it
need not appear in a process listing; it is never printed.
"""

import argparse
import datetime as dt
import errno
import os
import signal
import sys
import threading
from collections.abc import Callable

from inventory_api_sim.auth import AUTH_STYLES
from inventory_api_sim.config import SimulatorConfig
from inventory_api_sim.deviations import CONTRACT_WINDOW_PARAMS, window_pair
from inventory_api_sim.paging import PAGING_STYLES
from inventory_api_sim.server import InventoryApiSimulator

DEFAULT_API_KEY = "sim-secret-key"
API_KEY_ENV = "INVENTORY_API_KEY"


def _bounded(kind: type, low: float, high: float | None = None) -> Callable[[str], float]:
    """An argparse type that also checks the range, so mistakes exit 2 with a message."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"{text!r} must be {bounds}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def _day(text: str) -> dt.date:
    """A date, or `today` (UTC): data that reaches today keeps a freshness check honest."""
    return dt.datetime.now(dt.UTC).date() if text == "today" else _date(text)


def _days(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """--days, or the days from --start through --through."""
    if args.through is None:
        return args.days
    days = (args.through - args.start).days + 1
    if days < 1:
        parser.error(f"--through {args.through} is before --start {args.start}")
    return days


def _names(text: str) -> tuple[str, str]:
    try:
        return window_pair(text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_deviations(parser: argparse.ArgumentParser) -> None:
    """The SimulatorConfig deviations; POST /_control/deviate changes them while serving."""
    group = parser.add_argument_group(
        "deviations from the contract",
        "Ways real vendors depart from docs/inventory-api.md; off by default. A running "
        "simulator switches them with POST /_control/deviate?name=SWITCH&value=VALUE.",
    )
    add = group.add_argument
    add("--ignore-window", action="store_true", help="serve every record, whatever the window")
    add(
        "--window-params",
        type=_names,
        default=CONTRACT_WINDOW_PARAMS,
        metavar="SINCE,BEFORE",
        help="the only window parameter names honoured (default: updated_since,updated_before)",
    )
    add("--omit-total", action="store_true", help='pages carry no "total"')
    add(
        "--total-ignores-window",
        action="store_true",
        help='"total" counts every record; the data still keeps the window',
    )
    add("--page-cap", type=_bounded(int, 1), metavar="N", help="at most N records a page")
    add("--null-when-empty", action="store_true", help='a page without records has "data": null')
    retype = group.add_mutually_exclusive_group().add_argument  # one type per field
    retype(
        "--numbers-as-strings",
        action="store_true",
        help='id, quantity and capacity as numeric text, e.g. "100296"',
    )
    retype(
        "--integers-as-floats",
        action="store_true",
        help="id, quantity and capacity as integral floats, e.g. 100296.0",
    )
    add(
        "--rate-limit-headers",
        action="store_true",
        help="X-RateLimit-Limit and X-RateLimit-Remaining on every API answer",
    )
    add(
        "--quota-per-second",
        type=_bounded(int, 1),
        metavar="N",
        help="at most N API requests in any one second; the rest get 429 with Retry-After",
    )
    add(
        "--moves-while-paging",
        type=_bounded(int, 0),
        default=0,
        metavar="N",
        help="the next N /v1/resource pages with offset > 0 in a window with both bounds each "
        "first move a record already served to the window's end, as a busy vendor's updates do",
    )


def _add_shapes(parser: argparse.ArgumentParser) -> None:
    """Other vendors' paging and auth styles; the first four switch while serving too."""
    group = parser.add_argument_group(
        "vendors of other shapes",
        "Paging and auth styles of other REST vendors; the defaults are the contract's. "
        "--paging, --next-url-base, --auth and --auth-header are switches of "
        "POST /_control/deviate as well (paging, next_url_base, auth, auth_header).",
    )
    add = group.add_argument
    add(
        "--paging",
        choices=PAGING_STYLES,
        default="offset",
        metavar="STYLE",
        help="offset (offset/limit, the contract), page_number (page/per_page, items and "
        "page_context.has_more_page), cursor (cursor/limit, next_cursor), header_link "
        "(page/per_page, a bare list and a Link rel=next header) or json_link (page/page_size, "
        "count, next, previous and results); default: %(default)s",
    )
    add(
        "--next-url-base",
        metavar="URL",
        help="scheme://host:port that header_link and json_link next links point at, instead "
        "of the simulator's own: a vendor whose next link leads to another host",
    )
    add(
        "--auth",
        choices=AUTH_STYLES,
        default="query",
        metavar="STYLE",
        help="where the key goes: query (?api_key=, the contract), header (--auth-header), "
        "bearer (Authorization: Bearer KEY), token (Authorization: Token KEY), basic (HTTP "
        "basic auth, --basic-username and the key as password) or oauth2 (POST /oauth/token "
        "with client credentials, then the bearer token); default: %(default)s",
    )
    add(
        "--auth-header",
        default="X-API-Key",
        metavar="NAME",
        help="the header of --auth header (default: %(default)s)",
    )
    add(
        "--basic-username",
        default="sim-user",
        metavar="NAME",
        help="the user of --auth basic (default: %(default)s)",
    )
    add(
        "--oauth-client-id",
        default="sim-client",
        metavar="ID",
        help="the client_id of --auth oauth2, whose client_secret is the key "
        "(default: %(default)s)",
    )
    add(
        "--token-expires-seconds",
        type=_bounded(int, 1),
        default=3600,
        metavar="S",
        help="lifetime of --auth oauth2's access tokens (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inventory-api-sim",
        description="Serve a simulated inventory REST API (GET /v1/resource, GET /v1/warehouses, "
        "and POST /oauth/token with --auth oauth2). Loopback clients can change it with "
        "POST /_control/touch, delete, add_field, retype and deviate, and read "
        "GET /_control/state.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    add("--port", type=_bounded(int, 0, 65535), default=8000, help="0 picks a free port")
    add("--rows", type=_bounded(int, 0), default=1000, help="number of records")
    add("--days", type=_bounded(int, 1), default=30, help="days the updates spread over")
    add("--start", type=_date, default=dt.date(2026, 11, 1), help="first day, YYYY-MM-DD")
    add(
        "--through",
        type=_day,
        metavar="DAY",
        help="last day (YYYY-MM-DD or today, UTC) instead of --days: the data reaches it",
    )
    add("--seed", type=int, default=42, help="random seed for data and faults")
    add("--latency-ms", type=_bounded(float, 0), default=0.0, help="delay per request")
    add("--fault-rate", type=_bounded(float, 0, 1), default=0.0, help="share of failed requests")
    add("--retry-after", type=_bounded(int, 0), default=0, help="Retry-After seconds on 429")
    add(
        "--echo-url-in-errors",
        action="store_true",
        help="hostile: quote the request target, api key included, in every error body",
    )
    add(
        "--api-key",
        default=os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY,
        help=f"accepted key, also the basic password and the oauth2 client secret "
        f"(default: ${API_KEY_ENV}, else the built-in demo key)",
    )
    _add_deviations(parser)
    _add_shapes(parser)
    return parser


def _config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SimulatorConfig:
    """The config the arguments describe; ValueError for a value only SimulatorConfig checks."""
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        rows=args.rows,
        days=_days(args, parser),
        start=args.start,
        seed=args.seed,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        api_key=args.api_key,
        retry_after_seconds=args.retry_after,
        echo_url_in_errors=args.echo_url_in_errors,
        ignore_window=args.ignore_window,
        window_params=args.window_params,
        omit_total=args.omit_total,
        total_ignores_window=args.total_ignores_window,
        page_cap=args.page_cap,
        null_when_empty=args.null_when_empty,
        numbers_as_strings=args.numbers_as_strings,
        integers_as_floats=args.integers_as_floats,
        rate_limit_headers=args.rate_limit_headers,
        quota_per_second=args.quota_per_second,
        moves_while_paging=args.moves_while_paging,
        paging=args.paging,
        next_url_base=args.next_url_base,
        auth=args.auth,
        auth_header=args.auth_header,
        basic_username=args.basic_username,
        oauth_client_id=args.oauth_client_id,
        token_expires_seconds=args.token_expires_seconds,
    )


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("--api-key must not be empty")
    try:
        config = _config(args, parser)
    except ValueError as exc:  # a value only SimulatorConfig checks, e.g. --auth-header
        parser.error(str(exc))
    # Handlers go in before the data is generated, so a signal during a long
    # start-up still ends in a clean exit rather than a traceback.
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    simulator = InventoryApiSimulator(config)
    try:
        simulator.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            message = (
                f"port {args.port} is already in use on {args.host}; pass --port 0 for a free one"
            )
        else:
            message = f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
        sys.stderr.write(f"inventory-api-sim: error: {message}\n")
        raise SystemExit(1) from None

    sys.stdout.write(
        f"inventory-api-sim listening on {simulator.url} (rows={args.rows}, days={args.days}, "
        f"start={args.start.isoformat()}, seed={args.seed})\n"
    )
    sys.stdout.flush()
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        simulator.stop()
