"""Response: what the simulator answers, built by the API logic and sent by the transport.

Keeping it a plain value lets tests call the simulator without a socket, and
lets a hostile answer (another content type, a body cut short) be data too.
"""

import json
from dataclasses import dataclass, replace
from http import HTTPStatus

__all__ = ["HTML", "JSON", "Response", "error", "phrase", "with_request"]

JSON = "application/json; charset=utf-8"
HTML = "text/html"  # as a gateway error page comes: no charset


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
