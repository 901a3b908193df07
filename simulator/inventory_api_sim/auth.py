"""Auth styles: where a request carries its credential, as each kind of vendor wants it.

The contract wants the key in the query string (`?api_key=`). Other vendors
want it in a header of their own (X-API-Key, X-Access-Token), as a bearer or
token credential of the Authorization header, as the password of HTTP basic
auth, or not at all: an OAuth2 vendor trades client credentials for an access
token first (oauth.py). Only the place of the style in force is read, so a key
in another place is no key, as at a real vendor. A key is compared with
hmac.compare_digest (KeyCheck), an access token by its digest (oauth.py).
`presented` hands a credential to those checks only; `carried`, which the
request log keeps, names the places a request used, never what it put there.
"""

import base64
import binascii
import hmac
from collections.abc import Mapping

from inventory_api_sim.responses import Headers

__all__ = [
    "AUTHORIZATION",
    "AUTH_STYLES",
    "QUERY_KEY",
    "KeyCheck",
    "basic_pair",
    "carried",
    "presented",
]

AUTH_STYLES = ("query", "header", "bearer", "token", "basic", "oauth2")
QUERY_KEY = "api_key"  # the contract's query parameter, and the only one that is a credential
AUTHORIZATION = "Authorization"
# The Authorization scheme each style reads; an OAuth2 access token is a bearer credential.
_SCHEME_OF = {"bearer": "bearer", "token": "token", "basic": "basic", "oauth2": "bearer"}
_SCHEMES = frozenset(_SCHEME_OF.values())  # the schemes the request log names


def _raw(value: str) -> bytes:
    """A header value as the bytes sent: http.client decodes headers as Latin-1."""
    return value.encode("latin-1", "replace")


def _scheme(value: str) -> tuple[str, str]:
    """An Authorization value's scheme, in lower case (schemes ignore case), and credential."""
    scheme, _, credential = value.strip().partition(" ")
    return scheme.lower(), credential.strip()


def carried(params: Mapping[str, str], headers: Headers, header_name: str) -> str:
    """The `_auth` of the request log: the places this request carried a credential in.

    "query" (api_key), "header:<header_name>" (the auth header in force), the
    Authorization header's scheme ("bearer", "token", "basic", or
    "authorization" for any other), comma-separated; "none" if it carried none.
    """
    places = ["query"] if QUERY_KEY in params else []
    if headers.get(header_name) is not None:
        places.append(f"header:{header_name}")
    authorization = headers.get(AUTHORIZATION)
    if authorization is not None and header_name.lower() != AUTHORIZATION.lower():
        scheme = _scheme(authorization)[0]
        places.append(scheme if scheme in _SCHEMES else "authorization")
    return ",".join(places) or "none"


def presented(
    style: str, params: Mapping[str, str], headers: Headers, header_name: str
) -> bytes | None:
    """The credential in the place `style` reads, as sent; None if nothing is there.

    basic: the base64 text, see basic_pair; oauth2: the access token of a bearer credential.
    """
    if style == "query":
        given = params.get(QUERY_KEY)
        return None if given is None else given.encode()
    if style == "header":
        value = headers.get(header_name)
        return None if value is None else _raw(value)
    authorization = headers.get(AUTHORIZATION)
    if authorization is None:
        return None
    scheme, credential = _scheme(authorization)
    return _raw(credential) if scheme == _SCHEME_OF[style] else None


def basic_pair(credential: bytes) -> bytes | None:
    """HTTP basic auth's "user:password" from its base64 credential; None if it is not base64."""
    try:
        return base64.b64decode(credential, validate=True)
    except binascii.Error:
        return None


class KeyCheck:
    """Whether a presented credential is the key, in the styles that send the key itself."""

    def __init__(self, api_key: str, basic_username: str) -> None:
        self._key = api_key.encode()
        self._basic = f"{basic_username}:{api_key}".encode()

    def __repr__(self) -> str:  # never the key
        return "KeyCheck()"

    def accepts(self, style: str, given: bytes | None) -> bool:
        """True if `given` (from presented) is the key; for basic, the user name and the key."""
        if style == "basic":
            pair = None if given is None else basic_pair(given)
            return pair is not None and hmac.compare_digest(pair, self._basic)
        return hmac.compare_digest(given or b"", self._key)
