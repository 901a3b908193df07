"""The HTTP layer under every vendor client: retries, the secrets' redaction, counters.

The contract's key travels in the query string, so every URL requests or
urllib3 builds contains it; other vendors take it in a header, where error
pages echo it too. This transport adapter is the one place where requests
leave the process, so it is the one place that masks the secrets in what
comes back: response URLs (used by `raise_for_status` messages), error bodies
(some gateways echo the request in their error pages) and exception messages.
It is also the one place that refuses to send a request anywhere but the
vendor: a next link to another host never receives the key; and the one place
that keeps the vendor's quota (`api.max_requests_per_second`, rate_limit.py):
every attempt, retries included, waits for its slot.

The records of a 2xx page are the vendor's data and are loaded as sent. Only
a value that really holds the key (a vendor echoing a signed link, say) is
masked, and each such value is counted (`ExtractStats.values_masked`), so the
run warns and its metadata says how many: a change to the data is never silent.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.requests import Client
from requests.adapters import HTTPAdapter

from inventory_assets.redaction import Redactor
from inventory_assets.sources.inventory_api import contract
from inventory_assets.sources.inventory_api.contract import ApiOptions
from inventory_assets.sources.inventory_api.errors import ForeignHostError, MalformedPageError
from inventory_assets.sources.inventory_api.rate_limit import RateLimiter, shared_limiter
from inventory_assets.sources.inventory_api.stats import ExtractStats


class SecretExposureError(requests.RequestException):
    """A transport error whose message had the API key in it, re-raised without it."""


def origin(url: str) -> str:
    """`scheme://host:port` of a URL: what a request may be sent to, never its query."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


class RedactingAdapter(HTTPAdapter):
    """Counts attempts, sends only to the vendor, within its quota, and keeps the secrets
    out of URLs and errors handed upwards."""

    def __init__(
        self,
        redact: Redactor,
        stats: ExtractStats,
        allowed: frozenset[str],
        limiters: dict[str, RateLimiter] | None = None,
        pool_maxsize: int = 10,
    ) -> None:
        super().__init__(pool_maxsize=pool_maxsize)
        self._redact = redact
        self._stats = stats
        self._allowed = allowed  # origins a request may go to: the vendor's, its token URL
        self._limiters = limiters or {}  # origin -> its quota; none: no limit

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        """Send, then mask the key in the response URL, its body or the error raised."""
        target = origin(request.url)
        if target not in self._allowed:
            raise ForeignHostError(
                f"Refused to send a request to {target}, which is not the vendor's "
                f"({', '.join(sorted(self._allowed))}): the credentials go nowhere else."
            )
        if limiter := self._limiters.get(target):
            with self._stats.held_by_quota():
                limiter.wait()
        try:
            response = super().send(request, **kwargs)
            # Read the body now (it is read whole anyway) so no caller sees it unmasked,
            # and so a connection broken mid-body is counted and masked like any other.
            content = response.content
        except requests.RequestException as error:
            self._stats.record_attempt(None)
            failure = _redacted(error, self._redact)
        else:
            self._stats.record_attempt(response.status_code)
            response.url = self._redact(response.url)
            if self._redact.found_in(content):
                response._content = self._masked_body(response, content)
            return response
        # Raised outside the except block so the original, unmasked error is not
        # chained on as __context__.
        raise failure

    def _masked_body(self, response: requests.Response, content: bytes) -> bytes:
        """The body with the key masked: in a JSON 2xx page only inside the values that
        hold it (counted), anywhere else (an error page, HTML) wherever it occurs."""
        if response.ok:
            # The standard decoder: it reads every JSON orjson reads and more (this is
            # the rare path, taken only by a page that holds the key).
            try:
                payload = json.loads(content)
            except ValueError:
                pass
            else:
                masked, changed = self._redact.values(payload)
                self._stats.record_masked_values(changed)
                return json.dumps(masked, ensure_ascii=False).encode()
        return self._redact.bytes(content)


def _redacted(error: requests.RequestException, redact: Redactor) -> requests.RequestException:
    """The same kind of error with the key masked; keeps retryable types retryable."""
    message = redact(str(error))
    try:
        clean = type(error)(message)
    except Exception:
        clean = SecretExposureError(message)
    return clean


def _is_malformed_page(response: requests.Response | None, error: BaseException | None) -> bool:
    """Retry a 200 that broke the contract: gateways serve such pages when they flake."""
    return isinstance(error, MalformedPageError)


def _settle_environment(session: requests.Session, base_url: str) -> None:
    """Take requests' settings from the environment (proxies, CA bundle) once.

    With `trust_env`, requests scans the whole environment for proxy settings on
    every request, about a tenth of a CPU second per 1,000 pages. The settings
    are resolved once for the API's URL, the same way, and the scan is switched off.
    """
    found = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies.update(found["proxies"])
    session.verify = found["verify"]
    if found["cert"] is not None:
        session.cert = found["cert"]
    session.trust_env = False


def build_session(
    base_url: str,
    redact: Redactor,
    stats: ExtractStats,
    options: ApiOptions,
    also_to: tuple[str, ...] = (),
) -> requests.Session:
    """A session that retries as the contract says, sends only to `base_url` (and the URLs
    `also_to`, an OAuth2 token endpoint), and never hands a secret upwards.

    dlt's `Client` brings tenacity-based retries that honour `Retry-After`;
    `request_max_attempts` counts the first attempt, hence `max_retries + 1`.
    Malformed pages (raised by the page check in `validation.py`, which runs as
    a response hook inside the retried call) are retried too. With
    `options.max_requests_per_second`, every origin it may send to is held to
    that rate, by the limiter the whole process shares for it.
    """
    client = Client(
        request_timeout=options.request_timeout_seconds,
        raise_for_status=False,
        status_codes=contract.RETRY_STATUSES,
        request_max_attempts=options.max_retries + 1,
        request_backoff_factor=options.backoff_factor,
        request_max_retry_delay=contract.MAX_RETRY_DELAY_SECONDS,
        respect_retry_after_header=True,
        retry_condition=_is_malformed_page,
    )
    session = client.session
    _settle_environment(session, base_url)
    allowed = frozenset(origin(url) for url in (base_url, *also_to))
    rate = options.max_requests_per_second
    limiters = {target: shared_limiter(target, rate) for target in allowed} if rate else None
    adapter = RedactingAdapter(redact, stats, allowed, limiters)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
