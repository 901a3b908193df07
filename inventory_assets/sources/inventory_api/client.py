"""One client per vendor: the session, the auth and the paginator every path pages with.

A load (`rest_api_source`, source.py), `rows_match_api` and both change sensors
(through the change feed, changes.py) and the probe all call the vendor through
a `VendorClient` built from the same configuration: its auth (dlt's `api_key`,
`bearer`, `http_basic` or `oauth2_client_credentials`), the endpoint's
paginator (paging.py), the contract's retries and the redaction of every
secret (http.py). A vendor's shape is configured once, and every path follows it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import requests
from dlt.common.configuration import NotResolved, configspec
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import (
    APIKeyAuth,
    AuthConfigBase,
    BearerTokenAuth,
    HttpBasicAuth,
    OAuth2ClientCredentials,
)
from dlt.sources.helpers.rest_client.paginators import BasePaginator

from inventory_assets.redaction import Redactor
from inventory_assets.sources.inventory_api.contract import ApiOptions, Auth, Credentials, Endpoint
from inventory_assets.sources.inventory_api.errors import InventoryApiError
from inventory_assets.sources.inventory_api.http import build_session
from inventory_assets.sources.inventory_api.paging import build_paginator
from inventory_assets.sources.inventory_api.stats import ExtractStats
from inventory_assets.sources.inventory_api.validation import page_checker, select, total_of


class MissingCredentialsError(InventoryApiError):
    """The auth the configuration names needs a secret that was not given."""


@configspec
class _CookieOrPrefixedKey(APIKeyAuth):
    """dlt's API key auth, which also sends the key as a cookie (dlt's cookie is not done)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.location != "cookie":
            return super().__call__(request)
        cookie = f"{self.name}={self.api_key}"
        existing = request.headers.get("Cookie")
        request.headers["Cookie"] = f"{existing}; {cookie}" if existing else cookie
        return request


@configspec
class _RedactedOAuth2(OAuth2ClientCredentials):
    """Client credentials whose access token, once obtained, is masked like the secret."""

    redact: Annotated[Any, NotResolved()] = None

    def obtain_token(self) -> None:
        super().obtain_token()
        if self.redact is not None:
            self.redact.add(self.access_token)


def _required(value: str | None, what: str, auth: Auth) -> str:
    if not value:
        raise MissingCredentialsError(
            f"The {auth.type} auth of the vendor needs {what}, and none was given."
        )
    return value


def build_auth(
    auth: Auth, credentials: Credentials, session: requests.Session, redact: Redactor
) -> AuthConfigBase:
    """dlt's auth object for `auth` with the credentials; what it derives is masked too."""
    if auth.type == "bearer":
        return BearerTokenAuth(token=_required(credentials.token, "a token", auth))
    if auth.type == "http_basic":
        username = _required(credentials.username, "a username", auth)
        password = _required(credentials.password, "a password", auth)
        redact.add(base64.b64encode(f"{username}:{password}".encode()).decode())
        return HttpBasicAuth(username=username, password=password)
    if auth.type == "oauth2_client_credentials":
        oauth = _RedactedOAuth2(
            access_token_url=auth.access_token_url,
            client_id=_required(credentials.client_id, "a client id", auth),
            client_secret=_required(credentials.client_secret, "a client secret", auth),
            access_token_request_data=dict(auth.access_token_request_data),
            default_token_expiration=auth.default_token_expiration,
            session=session,
        )
        oauth.redact = redact
        return oauth
    key = _required(credentials.api_key, "an API key", auth)
    prefixed = f"{auth.prefix}{key}" if auth.location == "header" else key
    return _CookieOrPrefixedKey(name=auth.name, api_key=prefixed, location=auth.location)


@dataclass(frozen=True)
class Page:
    """One page of a listing: its records, the total it announced, whether more follow."""

    records: list[Any]
    total: int | None
    more: bool


def _raise_for_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    response.raise_for_status()


class VendorClient:
    """The vendor's API for every path: one session, one auth, the endpoints' paginators."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        options: ApiOptions,
        stats: ExtractStats | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.options = options
        self.stats = stats if stats is not None else ExtractStats()
        self.redact = Redactor(*credentials.secrets)
        token_url = options.auth.access_token_url
        self.session = build_session(
            self.base_url, self.redact, self.stats, options, (token_url,) if token_url else ()
        )
        self.auth = build_auth(options.auth, credentials, self.session, self.redact)

    def paginator(self, endpoint: Endpoint) -> BasePaginator:
        """A fresh paginator of the endpoint's style, held to every style's guarantees."""
        return build_paginator(endpoint.paginator, self.base_url)

    def pages(
        self, endpoint: Endpoint, params: Mapping[str, Any], max_pages: int
    ) -> Iterator[Page]:
        """Up to `max_pages` pages of the endpoint with `params`, as its paginator pages.

        Malformed pages are retried (the session), HTTP errors raise; the records
        are as the vendor sent them, nothing is validated or loaded here.
        """
        client = RESTClient(self.base_url, session=self.session, auth=self.auth)
        hooks = {
            "response": [
                page_checker(endpoint),
                _raise_for_status,
            ]
        }
        pages = client.paginate(
            endpoint.path,
            params={**dict(endpoint.params), **params},
            paginator=self.paginator(endpoint),
            data_selector=endpoint.data_selector,
            hooks=hooks,
        )
        for count, page in enumerate(pages, start=1):
            yield self._page(endpoint, page.response.json(), page.paginator.has_next_page)
            if count >= max_pages:
                return

    def seek(self, endpoint: Endpoint, params: Mapping[str, Any], offset: int, limit: int) -> Page:
        """The page at `offset` of an endpoint that pages by offset (the cheap way to a tail)."""
        paginator = endpoint.paginator
        position = {
            paginator.option("offset_param", "offset"): offset,
            paginator.option("limit_param", "limit"): limit,
        }
        response = self.session.get(
            f"{self.base_url}{endpoint.path}",
            params={**dict(endpoint.params), **params, **position},
            auth=self.auth,
            hooks={"response": [page_checker(endpoint)]},
        )
        response.raise_for_status()
        return self._page(endpoint, response.json(), more=True)

    def _page(self, endpoint: Endpoint, payload: Any, more: bool) -> Page:
        records = select(payload, endpoint.data_selector) or []
        return Page(records, total_of(payload, endpoint.paginator.total_path), more)
