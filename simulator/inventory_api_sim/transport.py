"""The HTTP shell: a threaded server and a handler that carry bytes to and from the simulator.

All API behaviour lives in InventoryApiSimulator; this module only reads
requests, sends Responses and manages connections. The key travels in the
query string or in headers, and a token request's body holds a client secret,
so nothing here logs a request line, a header or a body, or quotes one in a
reply, unless SimulatorConfig.echo_url_in_errors asks for the request line's
target on purpose.
"""

import contextlib
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from inventory_api_sim.control import is_control_path
from inventory_api_sim.oauth import MAX_TOKEN_BODY, TOKEN_PATH
from inventory_api_sim.responses import Request, Response, error, phrase, with_request

if TYPE_CHECKING:  # the simulator imports this module to serve
    from inventory_api_sim.server import InventoryApiSimulator

__all__ = ["HttpServer"]

_MAX_CONTROL_BODY = 1 << 20  # control bodies are ignored; a larger one is a mistake
_CONTROL_TOO_LARGE = "control requests take no body beyond 1 MiB"
_TOKEN_TOO_LARGE = "token requests take no body beyond 64 KiB"
_LINGER_ABORT = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close sends RST, not FIN


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP shell: all API behaviour lives in InventoryApiSimulator."""

    protocol_version = "HTTP/1.1"  # keep-alive, as real API gateways do
    server_version = "InventoryApiSimulator/1.0"
    disable_nagle_algorithm = True  # small pages must not wait for delayed ACKs
    timeout = 300  # an idle keep-alive connection frees its thread eventually
    server: "HttpServer"

    def do_GET(self) -> None:
        if is_control_path(self.path):
            self._control()
        else:
            self._send(self.server.simulator.respond(Request(self.path, self.headers)))

    def _write_method(self) -> None:
        """POST and friends: for control paths and the OAuth2 token endpoint only.

        The vendor's listings are read-only. The token endpoint is handed
        every method with its body, and answers anything but POST itself.
        """
        if is_control_path(self.path):
            if self._body(_MAX_CONTROL_BODY, _CONTROL_TOO_LARGE) is not None:
                self._control()
        elif urlsplit(self.path).path == TOKEN_PATH:
            body = self._body(MAX_TOKEN_BODY, _TOKEN_TOO_LARGE)
            if body is not None:
                request = Request(self.path, self.headers, self.command, body)
                self._send(self.server.simulator.respond(request))
        else:
            self.close_connection = True  # the request body is unread
            self._send(error(405, "method not allowed", (("Allow", "GET"),)))

    do_POST = do_PUT = do_PATCH = do_DELETE = _write_method

    def _control(self) -> None:
        host = self.client_address[0]
        self._send(self.server.simulator.control(self.command, self.path, host))

    def _body(self, limit: int, too_large: str) -> bytes | None:
        """The request body, read so keep-alive survives; None if answered already.

        A body beyond `limit` bytes is answered 413 with `too_large`. A chunked
        body is not read (b"" stands for it): the connection is closed after
        the reply instead, since its unread bytes would be taken for the next
        request.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return b""
        try:
            remaining = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            remaining = -1
        if not 0 <= remaining <= limit:
            self.close_connection = True
            if remaining < 0:
                self._send(error(400, "Content-Length must be a non-negative integer"))
            else:
                self._send(error(413, too_large))
            return None
        chunks = []
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65_536))
            if not chunk:  # the client hung up mid-body
                self.close_connection = True
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The default page quotes the request line, which carries the api key.
        self.close_connection = True
        self._send(error(code, phrase(code)))

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: the request line carries the api key."""

    def _received_target(self) -> str:
        """The request target exactly as the request line carried it ("" if it had none)."""
        words = self.requestline.split()
        return words[1] if len(words) > 1 else ""

    def _send(self, response: Response) -> None:
        if response.status >= 400 and self.server.simulator.config.echo_url_in_errors:
            response = with_request(response, self._received_target())
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) == "HEAD":
            return
        if response.abort_after is None:
            self.wfile.write(response.body)
        else:
            self._abort(response.body[: response.abort_after])

    def _abort(self, partial_body: bytes) -> None:
        """Send part of the body, then reset the connection as a crashing gateway would.

        A reset, not a clean close: the client must see its read fail mid-body.
        The socket only really closes once its last file object is closed.
        """
        self.wfile.write(partial_body)
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ABORT)
        self.rfile.close()
        self.connection.close()


class HttpServer(ThreadingHTTPServer):
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
        self.simulator.count_connection()
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)  # OSError on an aborted socket is suppressed there

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
