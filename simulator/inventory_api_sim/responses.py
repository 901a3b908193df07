"""Request and Response: what the transport hands the simulator, and what it gets back.

Keeping both plain values lets tests call the simulator without a socket, and
lets a hostile answer (another content type, a body cut short) be data too.
"""

import json
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Protocol

__all__ = ["HTML", "JSON", "Headers", "Request", "Response", "error", "phrase", "with_request"]

JSON = "application/json; charset=utf-8"
HTML = "text/html"  # as a gateway error page comes: no charset


class Headers(Protocol):
    """Request headers by name; http.client.HTTPMessage, as received, ignores the name's case."""

    def get(self, name: str, /) -> str | None: ...


@dataclass(frozen=True)
class Request:
    """One request: its target ("/path?query"), headers, method and (token requests') body.

    Headers and body may carry a credential: the simulator reads them, never
    logs or echoes them, and they are left out of the repr.
    """

    target: str
    headers: Headers = field(default_factory=dict, repr=False)
    method: str = "GET"
    body: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class Response:
    """Status, body and headers; `abort_after` cuts the body there and resets the connection."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = JSON
    abort_after: int | None = None


def error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """The contract's error body, {"error": message}."""
    return Response(status, json.dumps({"error": message}).encode(), headers)


def phrase(status: int) -> str:
    """The reason phrase of a status; "error" for codes http.HTTPStatus does not know."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def with_request(response: Response, target: str) -> Response:
    """An error with the request target added to its body, as a leaky gateway does.

    Only for SimulatorConfig.echo_url_in_errors: the target carries the api key.
    """
    payload = json.loads(response.body) | {"request": target}
    return replace(response, body=json.dumps(payload).encode())
