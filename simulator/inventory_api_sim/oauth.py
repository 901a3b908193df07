"""OAuth2 client credentials: POST /oauth/token trades the client's id and secret for a token.

In the oauth2 auth style (auth.py) the listings take no key: a client first
posts grant_type=client_credentials with its client_id and client_secret (the
simulator's api key), in the form body or as HTTP basic auth, then sends the
access token it got as a bearer credential until the token expires. Tokens are
random and kept only as SHA-256 digests with their expiry, so a lookup's timing
says nothing about a token; the client credentials are compared with
hmac.compare_digest. Neither the secret nor a token is ever logged.
"""

import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping

from inventory_api_sim.auth import AUTHORIZATION, basic_pair, presented
from inventory_api_sim.responses import Headers, Response, error

__all__ = ["GRANT_TYPE", "MAX_TOKEN_BODY", "TOKEN_PATH", "TokenIssuer"]

TOKEN_PATH = "/oauth/token"
MAX_TOKEN_BODY = 1 << 16  # a form of three short fields; a larger body is a mistake
GRANT_TYPE = "client_credentials"
_MAX_TOKENS = 10_000  # live tokens kept: a client that asks for one per request stays affordable


def _now() -> float:
    """The clock tokens expire by: monotonic, so a step of the wall clock cannot revive one."""
    return time.monotonic()


def _digest(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


def _client_credentials(form: Mapping[str, str], headers: Headers) -> tuple[bytes, bytes] | None:
    """The client id and secret of a token request: HTTP basic auth if sent, else the form's."""
    credential = presented("basic", {}, headers, AUTHORIZATION)
    if credential is not None:
        pair = basic_pair(credential)
        if pair is None or b":" not in pair:
            return None
        client_id, _, secret = pair.partition(b":")
        return client_id, secret
    if "client_id" in form and "client_secret" in form:
        return form["client_id"].encode(), form["client_secret"].encode()
    return None


class TokenIssuer:
    """The token endpoint and the tokens it issued; callers hold the simulator's lock."""

    def __init__(self, client_id: str, client_secret: str, lifetime: int) -> None:
        self._client = (client_id.encode(), client_secret.encode())
        self.lifetime = lifetime
        self._expiry: OrderedDict[bytes, float] = OrderedDict()  # digest -> expiry, issue order

    def __repr__(self) -> str:  # never the secret
        return f"TokenIssuer(lifetime={self.lifetime})"

    def answer(self, form: Mapping[str, str], headers: Headers) -> Response:
        """A token for the right client credentials (401 if wrong) and grant type (400 if not).

        The credentials come first, so a client that cannot prove itself learns nothing more.
        """
        given = _client_credentials(form, headers)
        if given is None or not self._is_client(*given):
            return error(401, "invalid client credentials")
        if form.get("grant_type") != GRANT_TYPE:
            return error(400, f"grant_type must be {GRANT_TYPE}")
        token = {"access_token": self._issue(), "token_type": "bearer", "expires_in": self.lifetime}
        return Response(200, json.dumps(token).encode(), (("Cache-Control", "no-store"),))

    def valid(self, token: bytes | None) -> bool:
        """True if `token` was issued here and has not expired."""
        expiry = None if token is None else self._expiry.get(_digest(token))
        return expiry is not None and _now() < expiry

    def _is_client(self, client_id: bytes, secret: bytes) -> bool:
        """Both compared in constant time, and both always compared."""
        id_ok = hmac.compare_digest(client_id, self._client[0])
        secret_ok = hmac.compare_digest(secret, self._client[1])
        return id_ok and secret_ok

    def _issue(self) -> str:
        """A new random token, valid for `lifetime` seconds from now."""
        now = _now()
        self._forget(now)
        token = secrets.token_urlsafe(32)
        self._expiry[_digest(token.encode())] = now + self.lifetime
        return token

    def _forget(self, now: float) -> None:
        """Drop expired tokens, and the oldest beyond _MAX_TOKENS: all expire in issue order."""
        while self._expiry:
            oldest, expiry = next(iter(self._expiry.items()))
            if expiry > now and len(self._expiry) < _MAX_TOKENS:
                return
            del self._expiry[oldest]
