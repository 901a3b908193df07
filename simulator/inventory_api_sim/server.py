"""InventoryApiSimulator: the third-party inventory API over real HTTP, for tests and demos.

The contract is docs/inventory-api.md: the inventory records on /v1/resource
and the vendor's warehouses on /v1/warehouses. Besides serving it, the
simulator is what tests steer: it changes records as a vendor would (touch,
touch_warehouse, add_field, delete), fails (fail_next, fault_rate), misbehaves
(serve_next, total_delta, put_raw) and departs from the contract (deviate) on
request, down to records that move while a client pages (moves_while_paging)
and vendors of other shapes: other paging styles (paging.py) and auth styles
(auth.py), OAuth2's token endpoint included (POST /oauth/token, oauth.py).
It is safe to run next to real secrets: the key travels in the query string
or in headers, and no request line, URL, header, key, password, client secret
or token is ever logged or echoed back (next links leave the key out too),
unless SimulatorConfig.echo_url_in_errors asks for the request target's leak.
"""

import datetime as dt
import json
import random
import threading
import time
from types import TracebackType
from typing import Any, cast
from urllib.parse import SplitResult, urlsplit

from inventory_api_sim.auth import QUERY_KEY, KeyCheck, carried, presented
from inventory_api_sim.config import SimulatorConfig
from inventory_api_sim.control import handle as handle_control
from inventory_api_sim.data import generate_records, generate_warehouses
from inventory_api_sim.deviations import Deviations, rate_limited
from inventory_api_sim.drift import RETYPES
from inventory_api_sim.faults import FaultScript, Hostile, StatusFault
from inventory_api_sim.listing import Listing, PageRequest
from inventory_api_sim.moves import moved_record
from inventory_api_sim.oauth import TOKEN_PATH, TokenIssuer
from inventory_api_sim.paging import LINKED_STYLES, Links
from inventory_api_sim.params import BadRequest, first_values
from inventory_api_sim.quota import WINDOW_SECONDS, Quota
from inventory_api_sim.records import RecordIndex
from inventory_api_sim.responses import Headers, Request, Response, error
from inventory_api_sim.timestamps import format_timestamp, instant_key, key_moment
from inventory_api_sim.touches import (
    SECONDS_PER_DAY,
    check_counts,
    other_quantity,
    touch_day,
    touch_moment,
)
from inventory_api_sim.transport import HttpServer

__all__ = ["InventoryApiSimulator"]

RESOURCE_PATH = "/v1/resource"
WAREHOUSES_PATH = "/v1/warehouses"
PATH_KEY = "_path"  # where `requests` notes the path of each logged request
AUTH_KEY = "_auth"  # where it notes the places the request carried a credential in
_REDACTED = "***"
_SECRET_PARAMS = frozenset({QUERY_KEY, "client_secret"})  # logged as _REDACTED
_UNAUTHORIZED = {"oauth2": "invalid, expired or missing access token"}  # else: the key's


class InventoryApiSimulator:
    """The inventory API over real HTTP, with scripted faults and mutation for tests."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self._lock = threading.Lock()
        days, start, seed = self.config.days, self.config.start, self.config.seed
        records = generate_records(self.config.rows, days, start, seed)
        self._index = RecordIndex(records)
        self._warehouse_index = RecordIndex(
            generate_warehouses(records, days, start, seed), primary_key="code"
        )
        self._listings = {
            RESOURCE_PATH: Listing(self._index, int, ("id", "quantity")),
            WAREHOUSES_PATH: Listing(self._warehouse_index, str, ("capacity",)),
        }
        config = self.config
        self._key_check = KeyCheck(config.api_key, config.basic_username)
        self._tokens = TokenIssuer(
            config.oauth_client_id, config.api_key, config.token_expires_seconds
        )
        self._deviations = Deviations.from_config(self.config)
        self._faults = FaultScript(self.config)
        # Their own generators, so touches, deletes and faults do not shift each other.
        self._touch_rng = random.Random(f"touch:{seed}")
        self._delete_rng = random.Random(f"delete:{seed}")
        self._move_rng = random.Random(f"move:{seed}")
        self._ids = sorted(self._index.key_of)  # the data set's ids; deletes shrink it
        self._total_delta = 0
        self._request_count = 0
        self._requests: list[dict[str, str]] = []
        self._arrivals: list[float] = []  # time.monotonic() of each logged request
        self._quota = Quota()
        self._connection_count = 0
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "InventoryApiSimulator":
        """Bind and serve in a daemon thread; OSError (e.g. port in use) propagates."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._server = HttpServer((self.config.host, self.config.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"inventory-api-sim-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "InventoryApiSimulator":
        return self.start() if self._server is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    # -- misbehaviour ------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` API requests with `status`, before auth is checked.

        Like serve_next, this scripts the gateway in front of both listings:
        the next requests get the answers, whichever listing they ask (token
        requests never do, see _token).
        """
        fault = StatusFault(status, retry_after)
        with self._lock:
            self._faults.add(fault, times)

    def serve_next(self, kind: str, times: int = 1, **options: float) -> None:
        """Answer the next `times` API requests wrongly, before auth is checked.

        Kinds: "html" (a 200 HTML error page), "no_data" (a page without "data"),
        "data_not_list" ("data" is an object), "empty" ("data": [] with the true
        total), "stall" (sleep `seconds`, default 5, then answer normally),
        "reset" (headers for the whole page, half the body, then a TCP reset),
        "huge" (`records` records, default 20000, whatever the limit), "short"
        (the page without its second half, status 200, true total),
        "truncated" (status 200, JSON content type, the first half of the
        page's JSON with a Content-Length to match: a complete HTTP answer
        that does not parse). Scripted answers, from here and from fail_next,
        are used in the order scripted.
        """
        hostile = Hostile.of(kind, options)
        with self._lock:
            self._faults.add(hostile, times)

    @property
    def total_delta(self) -> int:
        """Added to every /v1/resource page's `total` (clamped at 0); the data stays true."""
        return self._total_delta

    @total_delta.setter
    def total_delta(self, delta: int) -> None:
        self.set_total_delta(delta)

    def set_total_delta(self, delta: int) -> None:
        """Lie about `total` from now on: > 0 promises records that are not there."""
        if not isinstance(delta, int) or isinstance(delta, bool):
            raise TypeError("total_delta must be an int")
        self._total_delta = delta

    def put_raw(self, record: dict[str, Any]) -> None:
        """Serve `record` exactly as given, however it breaks the contract.

        It may lack an id, repeat one, or carry wrong types: it is served in
        (updated_at, id) order with the rest, a missing or non-integer id as 0,
        a missing or invalid updated_at first, in every window (no time bound
        can exclude it). Touches never change it; clear_raw removes it.
        """
        with self._lock:
            self._index.put_raw(record)

    def clear_raw(self) -> None:
        """Remove every record put_raw added."""
        with self._lock:
            self._index.clear_raw()

    @property
    def deviations(self) -> Deviations:
        """The deviations in force: the config's, as deviate has changed them since."""
        return self._deviations

    def deviate(self, **switches: Any) -> Deviations:
        """Depart from the contract from the next request on, e.g. deviate(page_cap=50).

        The switches are SimulatorConfig's deviation fields (see deviations.py);
        POST /_control/deviate runs this. Returns every switch's value now
        (moves_while_paging: the moves left); ValueError for an unknown switch
        or a bad value, and nothing changes.
        """
        with self._lock:
            self._deviations = self._deviations.changed(**switches)
            return self._deviations

    # -- vendor updates ----------------------------------------------------------------------

    def touch(self, ids: list[int], at: dt.datetime, **changes: Any) -> None:
        """Set updated_at of these records to `at` (naive = UTC) and apply field changes."""
        if "id" in changes or "updated_at" in changes:
            raise ValueError("id and updated_at cannot be changed with **changes")
        updated_at = format_timestamp(at)
        with self._lock:
            missing = [i for i in ids if i not in self._index.key_of]
            if missing:
                raise KeyError(f"no records with ids {missing}")
            self._update({i: {**changes, "updated_at": updated_at} for i in ids})

    def touch_random(
        self,
        count: int = 1,
        at: dt.datetime | str | None = None,
        day: dt.date | str | None = None,
        quantity: int | None = None,
    ) -> list[dict]:
        """Change `count` distinct records as a vendor update would; return what changed.

        This is what POST /_control/touch runs, so a test in this process and a
        sensor in another see the same behaviour. Records come from a generator
        seeded from the config seed, so the same sequence of calls on the same
        config touches the same ids. The new updated_at is `at` if given (naive
        or string = UTC); else, with `day`, a random second of that UTC day per
        record; else the vendor's clock, one second after the newest updated_at
        (whole seconds), so no local clock is involved and touches move forward.
        `quantity` becomes the given value, else a random 0..500 that differs
        from the old one. ValueError for bad arguments, with a client-safe message.
        """
        moment, date = touch_moment(at), touch_day(day)
        check_counts(count, quantity)
        spread = 0  # seconds after `moment` that each record's time is drawn from
        if moment is None and date is not None:
            moment = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)
            spread = SECONDS_PER_DAY
        with self._lock:
            if count > len(self._ids):
                raise ValueError(f"count must not exceed the number of records ({len(self._ids)})")
            ids = sorted(self._touch_rng.sample(self._ids, count))
            start = self._vendor_clock() if moment is None else moment
            changes = {i: self._random_change(i, start, spread, quantity) for i in ids}
            self._update(changes)
        return [{"id": i, **change} for i, change in changes.items()]

    def add_field(self, name: str, value: Any) -> None:
        """Add a field to every record, as a vendor may do without notice."""
        if name in ("id", "updated_at"):
            raise ValueError(f"{name} cannot be replaced")
        with self._lock:
            self._index.add_field(name, value)

    def retype_field(self, name: str, to: str) -> None:
        """Send a field of every record as another JSON type, as a vendor may do.

        `to` is "text" (12 becomes "12") or "number" ("12.5" becomes 12.5);
        nulls stay null and values that do not convert are kept.
        """
        if name == "id":
            raise ValueError("id cannot be retyped")
        change = RETYPES.get(to)
        if change is None:
            raise ValueError(f"to must be one of {', '.join(RETYPES)}")
        with self._lock:
            self._index.map_field(name, change)

    def touch_warehouse(self, code: str, at: dt.datetime, /, **changes: Any) -> None:
        """Set a warehouse's updated_at to `at` (naive = UTC) and apply field changes."""
        if "code" in changes or "updated_at" in changes:
            raise ValueError("code and updated_at cannot be changed with **changes")
        updated_at = format_timestamp(at)
        with self._lock:
            if code not in self._warehouse_index.key_of:
                raise KeyError(f"no warehouse with code {code!r}")
            changed = self._warehouse_index.get(code) | changes | {"updated_at": updated_at}
            self._warehouse_index.put(changed)

    def delete(self, ids: list[int]) -> list[dict]:
        """Delete these records, as a vendor's hard delete does; return them in id order.

        They vanish from every page and total, and touches no longer find them;
        raw records are not affected. KeyError if an id is not in the data set,
        and then nothing is deleted.
        """
        with self._lock:
            return self._delete(sorted(set(ids)))

    def delete_random(self, count: int = 1, day: dt.date | str | None = None) -> list[dict]:
        """Delete `count` distinct records, drawn like touch_random's; return them in id order.

        POST /_control/delete runs this. With `day` (a date or YYYY-MM-DD) only
        records last updated on that UTC day are candidates, so a test can take
        records out of a partition already loaded. The draws come from a
        generator of their own, seeded from the config seed, so the same calls
        on the same config delete the same ids. ValueError for bad arguments,
        with a client-safe message.
        """
        date = touch_day(day)
        check_counts(count, None)
        with self._lock:
            candidates = self._ids if date is None else self._ids_on(date)
            if count > len(candidates):
                scope = "records" if date is None else "records of that day"
                raise ValueError(f"count must not exceed the number of {scope} ({len(candidates)})")
            return self._delete(sorted(self._delete_rng.sample(candidates, count)))

    def _delete(self, ids: list[int]) -> list[dict]:
        """Delete records by id, all or none; caller holds the lock."""
        missing = [i for i in ids if i not in self._index.key_of]
        if missing:
            raise KeyError(f"no records with ids {missing}")
        deleted = [self._index.remove(i) for i in ids]
        gone = set(ids)
        self._ids = [i for i in self._ids if i not in gone]
        return deleted

    def _ids_on(self, date: dt.date) -> list[int]:
        """Ids of the data-set records last updated on this UTC day; caller holds the lock."""
        midnight = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)
        since, before = instant_key(midnight), instant_key(midnight + dt.timedelta(days=1))
        return sorted(cast(list[int], self._index.ids_between(since, before)))

    def _update(self, changes_by_id: dict[int, dict[str, Any]]) -> None:
        """Apply per-record changes and re-sort them in the index; caller holds the lock."""
        for record_id, changes in changes_by_id.items():
            self._index.put(self._index.get(record_id) | changes)

    def _random_change(
        self, record_id: int, start: dt.datetime, spread: int, quantity: int | None
    ) -> dict[str, Any]:
        """One record's new updated_at and quantity; caller holds the lock."""
        rng = self._touch_rng
        when = start + dt.timedelta(seconds=rng.randrange(spread)) if spread else start
        if quantity is None:
            quantity = other_quantity(rng, self._index.get(record_id)["quantity"])
        return {"updated_at": format_timestamp(when), "quantity": quantity}

    def _vendor_clock(self) -> dt.datetime:
        """One whole second after the newest updated_at; caller holds the lock."""
        newest = self._index.newest()
        assert newest is not None, "touch_random checks that there are records"
        return key_moment(newest).replace(microsecond=0) + dt.timedelta(seconds=1)

    # -- what tests read ---------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Row count and newest updated_at (None without rows), for tests and demos."""
        with self._lock:
            newest = self._index.newest()
            rows = len(self._index.keys)
        return {
            "rows": rows,
            "newest_updated_at": None if newest is None else format_timestamp(key_moment(newest)),
        }

    @property
    def records(self) -> list[dict]:
        """A copy of the current records, raw ones included, in id order."""
        with self._lock:
            bodies = self._index.in_id_order()
        return [json.loads(body) for body in bodies]

    @property
    def warehouses(self) -> list[dict]:
        """A copy of the current warehouses, in code order."""
        with self._lock:
            bodies = self._warehouse_index.in_id_order()
        return [json.loads(body) for body in bodies]

    @property
    def request_count(self) -> int:
        """API requests received (both endpoints), faulted and rejected ones included."""
        return self._request_count

    @property
    def requests(self) -> list[dict[str, str]]:
        """Query parameters of each API request, api_key replaced by "***".

        Key "_path" (PATH_KEY) holds the path asked for: /v1/resource,
        /v1/warehouses, or /oauth/token, whose form fields are logged too (the
        client_secret as "***"). Key "_auth" (AUTH_KEY) names the places the
        request carried a credential in, never the credential: "query",
        "header:<auth_header>", "bearer", "token", "basic" (or "authorization"
        for another Authorization scheme), "form" (a token request's client
        secret), comma-separated in that order, or "none". Both are set last,
        so a query parameter of either name is lost.
        """
        with self._lock:
            return [dict(params) for params in self._requests]

    @property
    def arrivals(self) -> list[float]:
        """When each request of `requests` arrived (time.monotonic()), in the same order."""
        with self._lock:
            return list(self._arrivals)

    def busiest_second(self) -> int:
        """The most requests of the log that arrived within any one second [t, t + 1)."""
        arrivals = sorted(self.arrivals)
        most, first = 0, 0
        for last, moment in enumerate(arrivals):
            while arrivals[first] <= moment - WINDOW_SECONDS:
                first += 1
            most = max(most, last - first + 1)
        return most

    @property
    def quota_refusals(self) -> int:
        """Requests answered 429 because they were over quota_per_second."""
        return self._quota.refused

    @property
    def connection_count(self) -> int:
        """TCP connections accepted, to check that clients keep connections alive."""
        return self._connection_count

    def reset_stats(self) -> None:
        """Zero the counters and the request log, so a test sees only its own traffic."""
        with self._lock:
            self._request_count = self._connection_count = 0
            self._requests.clear()
            self._arrivals.clear()
            self._quota.refused = 0

    def count_connection(self) -> None:
        """Called by the transport for each TCP connection it accepts."""
        with self._lock:
            self._connection_count += 1

    # -- serving -----------------------------------------------------------------------------

    def control(self, method: str, target: str, client_host: str) -> Response:
        """Answer a /_control/ request (see control.py); not counted as an API request."""
        return handle_control(self, method, target, client_host)

    def respond(self, request: Request | str) -> Response:
        """Answer one request as the vendor would; a bare target ("/path?query") is a GET.

        Order: path, counting (on arrival, so a client that times out is still
        counted), the quota (quota.py), latency, scripted then random faults and
        hostile answers (they come from the gateway, before the API sees the key),
        auth, parameters, the page. One request sees one set of deviations, those
        of its arrival.
        """
        if isinstance(request, str):
            request = Request(request)
        parts = urlsplit(request.target)
        listing = self._listings.get(parts.path)
        if listing is None:
            return (
                self._token(request, parts) if parts.path == TOKEN_PATH else error(404, "not found")
            )
        params = first_values(parts.query)
        with self._lock:
            deviations = self._deviations
            auth = carried(params, request.headers, deviations.auth_header)
            used = self._count(parts.path, params, auth)
            refused = self._quota.admit(self._arrivals[-1], deviations.quota_per_second)
            scripted = None if refused else self._faults.next()
        self._delay()
        response = refused or self._answer(
            listing, request.headers, parts, params, scripted, deviations
        )
        return rate_limited(response, used) if deviations.rate_limit_headers else response

    def _count(self, path: str, params: dict[str, str], auth: str) -> int:
        """Count and log an API request, secrets masked; caller holds the lock.

        Returns the count so far, which the rate-limit headers report.
        """
        logged = {k: (_REDACTED if k in _SECRET_PARAMS else v) for k, v in params.items()}
        self._requests.append({**logged, PATH_KEY: path, AUTH_KEY: auth})
        self._arrivals.append(time.monotonic())
        self._request_count += 1
        return self._request_count

    def _delay(self) -> None:
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000)

    def _token(self, request: Request, parts: SplitResult) -> Response:
        """POST /oauth/token: an access token for the client credentials, in the oauth2 style.

        Other styles have no token endpoint (404). A token request is counted,
        logged (query and form, the client secret masked; `_auth` adds "form"
        for a secret in the form), held to the quota and delayed like any API
        request, but takes no scripted or random fault: those stand for the
        listings' gateway.
        """
        if self._deviations.auth != "oauth2":
            return error(404, "not found")
        if request.method != "POST":
            return error(405, "method not allowed", (("Allow", "POST"),))
        form = first_values(request.body.decode("utf-8", "replace"))
        params = first_values(parts.query) | form
        with self._lock:
            deviations = self._deviations
            auth = carried(params, request.headers, deviations.auth_header)
            if "client_secret" in form:
                auth = "form" if auth == "none" else f"{auth},form"
            used = self._count(parts.path, params, auth)
            refused = self._quota.admit(self._arrivals[-1], deviations.quota_per_second)
        self._delay()
        with self._lock:
            response = refused or self._tokens.answer(form, request.headers)
        return rate_limited(response, used) if deviations.rate_limit_headers else response

    def _answer(
        self,
        listing: Listing,
        headers: Headers,
        parts: SplitResult,
        params: dict[str, str],
        scripted: StatusFault | Hostile | None,
        deviations: Deviations,
    ) -> Response:
        """The answer after counting and latency: the scripted answer, auth, then the page."""
        if isinstance(scripted, StatusFault):
            return scripted.response()
        if isinstance(scripted, Hostile):
            return scripted.preempt() or self._page(listing, parts, params, deviations, scripted)
        if not self._authenticated(params, headers, deviations):
            return error(401, _UNAUTHORIZED.get(deviations.auth, "invalid or missing api key"))
        return self._page(listing, parts, params, deviations, None)

    def _authenticated(
        self, params: dict[str, str], headers: Headers, deviations: Deviations
    ) -> bool:
        """Whether the request carries the credential where the auth style in force wants it."""
        style = deviations.auth
        given = presented(style, params, headers, deviations.auth_header)
        if style != "oauth2":
            return self._key_check.accepts(style, given)
        with self._lock:
            return self._tokens.valid(given)

    def _page(
        self,
        listing: Listing,
        parts: SplitResult,
        params: dict[str, str],
        deviations: Deviations,
        hostile: Hostile | None,
    ) -> Response:
        """The page the parameters ask for, bent by `hostile` if given; 400 for bad ones."""
        try:
            request = listing.request(params, deviations)
        except BadRequest as exc:
            return error(400, str(exc))
        links = self._links(parts, deviations)
        with self._lock:
            inventory = listing.index is self._index
            if inventory:
                self._move_while_paging(request)
            delta = self._total_delta if inventory else 0
            page = listing.page(request, deviations, delta, links)
            return hostile.answer(page) if hostile else Response(200, page.body(), page.headers)

    def _links(self, parts: SplitResult, deviations: Deviations) -> Links | None:
        """Where the request's other pages are, for the paging styles that link them."""
        if deviations.paging not in LINKED_STYLES:
            return None
        return Links(deviations.next_url_base or self.url, parts.path, parts.query)

    def _move_while_paging(self, request: PageRequest) -> None:
        """Spend one of moves_while_paging on moving a record of this paged window, if one can.

        Only a page the API builds moves a record (hostile JSON kinds are built
        from one); a status fault, html, 401 or 400 does not. The budget in
        force now counts, not the request's snapshot of the deviations: read
        and spent under the lock, one move is never spent twice by concurrent
        requests. Caller holds the lock.
        """
        left = self._deviations.moves_while_paging
        record = moved_record(self._index, request, self._move_rng) if left else None
        if record is not None:
            self._index.put(record)
            self._deviations = self._deviations.changed(moves_while_paging=left - 1)
