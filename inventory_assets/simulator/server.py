"""A real HTTP server that plays the third-party inventory API.

The contract is docs/inventory-api.md. The server must be cheap enough
that benchmarks measure the client, so every record is JSON-encoded once and a
page is a bisect plus a bytes join. It must also be safe to run next to real
secrets: the api key travels in the query string, so no request line, URL or
key is ever logged or echoed back.
"""

import contextlib
import datetime as dt
import hmac
import json
import random
import socket
import sys
import threading
import time
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from inventory_assets.simulator.control import (
    MAX_QUANTITY,
    MAX_TOUCH_COUNT,
    is_control_path,
)
from inventory_assets.simulator.control import handle as handle_control
from inventory_assets.simulator.data import format_timestamp, generate_records

__all__ = ["InventoryApiSimulator", "SimulatorConfig"]

RESOURCE_PATH = "/v1/resource"
MAX_LIMIT = 100
DEFAULT_LIMIT = 100
FAULT_STATUSES = (429, 500, 502, 503, 504)
_JSON = "application/json; charset=utf-8"
_REDACTED = "***"
_MAX_CONTROL_BODY = 1 << 20  # control bodies are ignored; a larger one is a mistake
_SECONDS_PER_DAY = 86_400
_Key = tuple[str, int]  # (normalised updated_at, id): the serving order


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that shapes one simulated API; the defaults suit the tests."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 lets the OS pick a free port, so parallel tests never collide
    rows: int = 1000
    days: int = 30
    start: dt.date = dt.date(2026, 11, 1)
    seed: int = 42
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    api_key: str = field(default="sim-secret-key", repr=False)  # never in a repr or a log
    retry_after_seconds: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.retry_after_seconds < 0 or self.rows < 0:
            raise ValueError("latency_ms, retry_after_seconds and rows must be >= 0")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if not self.api_key:
            raise ValueError("api_key must not be empty")


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


class _BadRequest(ValueError):
    """A parameter the contract does not allow; its message goes to the client."""


def _error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> _Response:
    return _Response(status, json.dumps({"error": message}).encode(), headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


# One encoder for all records: json.dumps would build a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _encode(record: dict) -> bytes:
    return _ENCODER.encode(record).encode()


def parse_timestamp(text: str) -> dt.datetime:
    """Parse an ISO 8601 instant or date as aware UTC; naive input is taken as UTC.

    Accepts "Z" and "+00:00" (also a "+" that a hand-built query string turned
    into a space) and plain dates, which mean midnight UTC.
    """
    text = text.strip()
    if "T" in text and " " in text:
        text = text.replace(" ", "+")
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _instant_key(moment: dt.datetime) -> str:
    """Fixed-width UTC text that sorts like time, to compare with record keys."""
    naive = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return naive.isoformat(timespec="microseconds")


def _record_key(updated_at: str) -> str:
    # Generated records are "YYYY-MM-DDTHH:MM:SSZ": skip the parser for them.
    if len(updated_at) == 20 and updated_at[-1] == "Z":
        return updated_at[:19] + ".000000"
    return _instant_key(parse_timestamp(updated_at))


class _RecordIndex:
    """Records in (updated_at, id) order as pre-encoded JSON, for bisect paging.

    Only the encoded bytes are kept, not the dicts: a million records stay
    affordable, and serving never encodes. Callers hold the simulator's lock.
    """

    def __init__(self, records: list[dict]) -> None:
        ids = [record["id"] for record in records]
        keys = [_record_key(record["updated_at"]) for record in records]
        # Two stable sorts on plain keys (id, then time) give (updated_at, id)
        # order several times faster than sorting tuples.
        order = sorted(range(len(records)), key=ids.__getitem__)
        order.sort(key=keys.__getitem__)
        self.keys: list[_Key] = [(keys[i], ids[i]) for i in order]
        self.bodies: list[bytes] = [_encode(records[i]) for i in order]
        self.key_of: dict[int, _Key] = {key[1]: key for key in self.keys}

    def window(self, since: str | None, before: str | None) -> tuple[int, int]:
        """Index range of records with since <= updated_at < before."""
        low = 0 if since is None else bisect_left(self.keys, (since,))
        high = len(self.keys) if before is None else bisect_left(self.keys, (before,))
        return low, max(low, high)

    def get(self, record_id: int) -> dict:
        return json.loads(self.bodies[bisect_left(self.keys, self.key_of[record_id])])

    def put(self, record: dict) -> None:
        """Replace a record by id, moving it to where its new updated_at sorts."""
        old = self.key_of[record["id"]]
        position = bisect_left(self.keys, old)
        del self.keys[position], self.bodies[position]
        new = (_record_key(record["updated_at"]), record["id"])
        position = bisect_left(self.keys, new)
        self.keys.insert(position, new)
        self.bodies.insert(position, _encode(record))
        self.key_of[record["id"]] = new


def _touch_moment(at: dt.datetime | str | None) -> dt.datetime | None:
    if at is None or isinstance(at, dt.datetime):
        return at
    try:
        return parse_timestamp(at)
    except (ValueError, OverflowError):
        raise ValueError(
            "at must be an ISO 8601 UTC timestamp, e.g. 2026-11-20T08:30:00Z"
        ) from None


def _touch_day(day: dt.date | str | None) -> dt.date | None:
    if day is None or isinstance(day, dt.date):
        return day
    try:
        if len(day) == 10:  # fromisoformat also takes "20261101" and week dates
            return dt.date.fromisoformat(day)
    except ValueError:
        pass
    raise ValueError("day must be a date in YYYY-MM-DD form, e.g. 2026-11-20")


def _check_touch_args(count: int, quantity: int | None) -> None:
    if not 1 <= count <= MAX_TOUCH_COUNT:
        raise ValueError(f"count must be an integer between 1 and {MAX_TOUCH_COUNT}")
    if quantity is not None and not 0 <= quantity <= MAX_QUANTITY:
        raise ValueError(f"quantity must be an integer between 0 and {MAX_QUANTITY}")


def _other_quantity(rng: random.Random, old: int) -> int:
    """A uniform draw from 0..500 without `old`, so every touch is a visible change."""
    new = rng.randrange(500)
    return new + 1 if new >= old else new


def _first_values(query: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}


def _int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        bounds = f"between {low} and {high}" if high < sys.maxsize else f">= {low}"
        raise _BadRequest(f"{name} must be an integer {bounds}")
    return value


def _time_param(params: dict[str, str], name: str) -> str | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        return _instant_key(parse_timestamp(text))
    except (ValueError, OverflowError):  # OverflowError: offsets at datetime.min/max
        # The value is not echoed: a misplaced key must not come back in a body.
        raise _BadRequest(
            f"{name} must be an ISO 8601 UTC timestamp, e.g. 2026-11-01T00:00:00Z"
        ) from None


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP shell: all API behaviour lives in InventoryApiSimulator."""

    protocol_version = "HTTP/1.1"  # keep-alive, as real API gateways do
    server_version = "InventoryApiSimulator/1.0"
    disable_nagle_algorithm = True  # small pages must not wait for delayed ACKs
    timeout = 300  # an idle keep-alive connection frees its thread eventually
    server: "_HttpServer"

    def do_GET(self) -> None:
        if is_control_path(self.path):
            self._control()
        else:
            self._send(self.server.simulator.respond(self.path))

    def _write_method(self) -> None:
        """POST and friends: only control paths take them; the vendor API is read-only."""
        if not is_control_path(self.path):
            self.close_connection = True  # the request body is unread
            self._send(_error(405, "method not allowed", (("Allow", "GET"),)))
        elif self._discard_body():
            self._control()

    do_POST = do_PUT = do_PATCH = do_DELETE = _write_method

    def _control(self) -> None:
        host = self.client_address[0]
        self._send(self.server.simulator.control(self.command, self.path, host))

    def _discard_body(self) -> bool:
        """Read and drop a request body so keep-alive survives; False if answered already.

        A chunked body is not read: the connection is closed after the reply
        instead, since its unread bytes would be taken for the next request.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return True
        try:
            remaining = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            remaining = -1
        if not 0 <= remaining <= _MAX_CONTROL_BODY:
            self.close_connection = True
            if remaining < 0:
                self._send(_error(400, "Content-Length must be a non-negative integer"))
            else:
                self._send(_error(413, "control requests take no body beyond 1 MiB"))
            return False
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65_536))
            if not chunk:  # the client hung up mid-body
                self.close_connection = True
                break
            remaining -= len(chunk)
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The default page quotes the request line, which carries the api key.
        self.close_connection = True
        self._send(_error(code, _phrase(code)))

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: the request line carries the api key."""

    def _send(self, response: _Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", _JSON)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(response.body)


class _HttpServer(ThreadingHTTPServer):
    """Threaded server that counts connections and can drop them all on stop."""

    daemon_threads = True
    request_queue_size = 128  # concurrent benchmark clients must not be refused

    def __init__(self, address: tuple[str, int], simulator: "InventoryApiSimulator") -> None:
        self.simulator = simulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name, which can stall on DNS.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self._open_lock:
            self._open.add(connection)
        self.simulator._count_connection()
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid keep-alive is normal; anything else is a bug.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class InventoryApiSimulator:
    """The inventory API over real HTTP, with scripted faults and mutation for tests."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self._lock = threading.Lock()
        self._index = _RecordIndex(
            generate_records(
                self.config.rows, self.config.days, self.config.start, self.config.seed
            )
        )
        self._fault_rng = random.Random(self.config.seed)
        # Its own generator, so touches do not shift the fault sequence and vice versa.
        self._touch_rng = random.Random(f"touch:{self.config.seed}")
        self._ids = sorted(self._index.key_of)  # records are never added or removed
        self._scripted: deque[tuple[int, int | None]] = deque()
        self._request_count = 0
        self._requests: list[dict[str, str]] = []
        self._connection_count = 0
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "InventoryApiSimulator":
        """Bind and serve in a daemon thread; OSError (e.g. port in use) propagates."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._server = _HttpServer((self.config.host, self.config.port), self)
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

    # -- test controls -----------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` resource requests with `status`, before auth is checked."""
        if not 400 <= status <= 599 or times < 1:
            raise ValueError("status must be 4xx/5xx and times >= 1")
        with self._lock:
            self._scripted.extend([(status, retry_after)] * times)

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

    def _update(self, changes_by_id: dict[int, dict[str, Any]]) -> None:
        """Apply per-record changes and re-sort them in the index; caller holds the lock."""
        for record_id, changes in changes_by_id.items():
            self._index.put(self._index.get(record_id) | changes)

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
        moment, date = _touch_moment(at), _touch_day(day)
        _check_touch_args(count, quantity)
        spread = 0  # seconds after `moment` that each record's time is drawn from
        if moment is None and date is not None:
            moment = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC)
            spread = _SECONDS_PER_DAY
        with self._lock:
            if count > len(self._ids):
                raise ValueError(f"count must not exceed the number of records ({len(self._ids)})")
            ids = sorted(self._touch_rng.sample(self._ids, count))
            start = self._vendor_clock() if moment is None else moment
            changes = {i: self._random_change(i, start, spread, quantity) for i in ids}
            self._update(changes)
        return [{"id": i, **change} for i, change in changes.items()]

    def _random_change(
        self, record_id: int, start: dt.datetime, spread: int, quantity: int | None
    ) -> dict[str, Any]:
        """One record's new updated_at and quantity; caller holds the lock."""
        rng = self._touch_rng
        when = start + dt.timedelta(seconds=rng.randrange(spread)) if spread else start
        if quantity is None:
            quantity = _other_quantity(rng, self._index.get(record_id)["quantity"])
        return {"updated_at": format_timestamp(when), "quantity": quantity}

    def _vendor_clock(self) -> dt.datetime:
        """One whole second after the newest updated_at; caller holds the lock."""
        newest = dt.datetime.fromisoformat(self._index.keys[-1][0]).replace(tzinfo=dt.UTC)
        return newest.replace(microsecond=0) + dt.timedelta(seconds=1)

    def state(self) -> dict[str, Any]:
        """Row count and newest updated_at (None without rows), for tests and demos."""
        with self._lock:
            newest = self._index.keys[-1][0] if self._index.keys else None
            rows = len(self._index.keys)
        if newest is not None:
            newest = format_timestamp(dt.datetime.fromisoformat(newest))
        return {"rows": rows, "newest_updated_at": newest}

    def add_field(self, name: str, value: Any) -> None:
        """Add a field to every record, as a vendor may do without notice."""
        if name in ("id", "updated_at"):
            raise ValueError(f"{name} cannot be replaced")
        with self._lock:
            index = self._index
            index.bodies = [_encode({**json.loads(body), name: value}) for body in index.bodies]

    @property
    def records(self) -> list[dict]:
        """A copy of the current records, in id order."""
        with self._lock:
            bodies = list(self._index.bodies)
        return sorted((json.loads(body) for body in bodies), key=lambda r: r["id"])

    @property
    def request_count(self) -> int:
        """Resource requests received, faulted and rejected ones included."""
        return self._request_count

    @property
    def requests(self) -> list[dict[str, str]]:
        """Query parameters of each resource request, api_key replaced by "***"."""
        with self._lock:
            return [dict(params) for params in self._requests]

    @property
    def connection_count(self) -> int:
        """TCP connections accepted, to check that clients keep connections alive."""
        return self._connection_count

    def reset_stats(self) -> None:
        """Zero the counters and the request log, so a test sees only its own traffic."""
        with self._lock:
            self._request_count = self._connection_count = 0
            self._requests.clear()

    def _count_connection(self) -> None:
        with self._lock:
            self._connection_count += 1

    # -- serving -----------------------------------------------------------------------------

    def control(self, method: str, target: str, client_host: str) -> _Response:
        """Answer a /_control/ request (see control.py); not counted as an API request."""
        reply = handle_control(self, method, target, client_host)
        return _Response(reply.status, json.dumps(reply.payload).encode(), reply.headers)

    def respond(self, target: str) -> _Response:
        """Answer one GET request target ("/path?query"), as the vendor would.

        Order: path, counting (on arrival, so a client that times out is still
        counted), latency, scripted then random faults (they come from the
        gateway, before the API sees the key), auth, parameters, the page.
        """
        parts = urlsplit(target)
        if parts.path != RESOURCE_PATH:
            return _error(404, "not found")
        params = _first_values(parts.query)
        with self._lock:
            self._request_count += 1
            self._requests.append(
                {k: (_REDACTED if k == "api_key" else v) for k, v in params.items()}
            )
            fault = self._next_fault()
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000)
        if fault is not None:
            return fault
        given = params.get("api_key", "").encode()
        if not hmac.compare_digest(given, self.config.api_key.encode()):
            return _error(401, "invalid or missing api key")
        try:
            offset = _int_param(params, "offset", 0, 0, sys.maxsize)
            limit = _int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
            since = _time_param(params, "updated_since")
            before = _time_param(params, "updated_before")
        except _BadRequest as exc:
            return _error(400, str(exc))
        with self._lock:
            low, high = self._index.window(since, before)
            page = self._index.bodies[min(low + offset, high) : min(low + offset + limit, high)]
        body = b'{"data":[%b],"total":%d,"offset":%d,"limit":%d}' % (
            b",".join(page),
            high - low,
            offset,
            limit,
        )
        return _Response(200, body)

    def _next_fault(self) -> _Response | None:
        """Scripted faults first, then random ones; caller holds the lock."""
        if self._scripted:
            status, retry_after = self._scripted.popleft()
        elif self.config.fault_rate and self._fault_rng.random() < self.config.fault_rate:
            status = self._fault_rng.choice(FAULT_STATUSES)
            retry_after = self.config.retry_after_seconds
        else:
            return None
        headers: tuple[tuple[str, str], ...] = ()
        if status == 429 and retry_after is not None:
            headers = (("Retry-After", str(retry_after)),)
        return _error(status, f"simulated fault: {status} {_phrase(status)}", headers)
