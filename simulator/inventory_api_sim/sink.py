"""RecordingServer: another host, which records whatever reaches it, for tests of leaks.

A vendor's next link may point at another host (next_url_base). A client that
follows it must not take the key along: tests point the link here and read
what arrived. Unlike the simulator, this double keeps everything verbatim,
secrets included, since a leak is what it must show: the request target
(path and query) and every header name and value as received, and the body.
It answers every request with 200 and an empty JSON list, and logs nothing.
"""

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["Received", "RecordingServer"]

_MAX_BODY = 1 << 20  # read at most this much of a body; a test never needs more
_ANSWER = b"[]"


@dataclass(frozen=True)
class Received:
    """One request as it arrived: method, target ("/path?query"), headers in order, body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), None if it was not sent."""
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)


class _Recorder(BaseHTTPRequestHandler):
    server: "_Server"

    def _record(self) -> None:
        try:
            length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        self.server.received(Received(self.command, self.path, tuple(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(_ANSWER)))
        self.end_headers()
        self.wfile.write(_ANSWER)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: what arrives may be a leaked secret."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str) -> None:
        self.log: list[Received] = []
        self.lock = threading.Lock()
        super().__init__((host, 0), _Recorder)

    def received(self, request: Received) -> None:
        with self.lock:
            self.log.append(request)


class RecordingServer:
    """A loopback HTTP server on a free port that records every request; a context manager."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "RecordingServer":
        if self._server is not None:
            raise RuntimeError("a recording server starts once")
        self._server = _Server(self._host)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="recording-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; safe to call twice. What was recorded stays readable."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> "RecordingServer":
        return self.start() if self._server is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """scheme://host:port, what next_url_base takes."""
        if self._server is None:
            raise RuntimeError("recording server not started")
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[Received]:
        """Every request received so far, in arrival order."""
        if self._server is None:
            return []
        with self._server.lock:
            return list(self._server.log)
