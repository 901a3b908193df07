"""Errors the inventory source raises, and one sentence a data engineer can act on.

dlt wraps an HTTP failure in a resource extraction error inside a pipeline step
failure; the useful facts (status, endpoint, offset) sit at the bottom.
`explain` finds them and says what to do, without the key (the transport
already masked it in every URL and body).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from inventory_assets.sources.inventory_api.contract import RETRY_STATUSES


class InventoryApiError(Exception):
    """An expected failure talking to the inventory API, with an actionable message."""


class MalformedPageError(InventoryApiError):
    """A 2xx page that breaks the contract in a way a flaky gateway may cause; retried."""


class PageContractError(InventoryApiError):
    """A page or paging sequence that breaks the contract in a way retrying cannot fix."""


class ForeignHostError(PageContractError):
    """A request (a next link, say) to a host that is not the vendor's: never sent."""


class IncompleteWindowError(InventoryApiError):
    """The pages held fewer distinct records than the API's `total`; nothing was loaded."""


class WindowIgnoredError(InventoryApiError):
    """The API served a record outside the window it was asked for; nothing was loaded."""

    # What fixes it, whichever read noticed it (a load or the change feed).
    FIX = (
        "If the vendor names its window parameters differently, set "
        "INVENTORY_WINDOW_START_PARAM and INVENTORY_WINDOW_END_PARAM; if it cannot filter by "
        "time, set INVENTORY_SYNC_MODE=client_window (inventory-api-probe tells which)."
    )


PAGE_POSITIONS = ("offset", "page")  # query parameters that say where in a listing a page is


def where(response: requests.Response | None) -> str:
    """Endpoint path and position (offset or page number) of a request, never its query."""
    if response is None or not response.url:
        return "the API"
    url = urlsplit(response.url)
    params = parse_qs(url.query)
    for name in PAGE_POSITIONS:
        if name in params:
            return f"{url.path} ({name} {params[name][0]})"
    return url.path


def _causes(error: BaseException) -> list[BaseException]:
    """The error and everything it wraps: dlt's `.exception`, `__cause__`, `__context__`."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    return chain


def _http_message(error: requests.HTTPError, retries: int) -> str:
    response = error.response
    status = response.status_code if response is not None else 0
    if status in (401, 403):
        return (
            f"The inventory API rejected the API key (HTTP {status}) at {where(response)}. "
            "Check INVENTORY_API_KEY; it was not retried."
        )
    if status in RETRY_STATUSES:
        return (
            f"The inventory API still answered HTTP {status} at {where(response)} after "
            f"{retries} retries."
        )
    body = response.text[:300] if response is not None else ""
    message = f"The inventory API answered HTTP {status} at {where(response)}: {body}".rstrip(": ")
    if status == 404:
        message += (
            " Is INVENTORY_API_BASE_URL the API's base URL (without the endpoint's path), and"
            " INVENTORY_ENDPOINT_PATH the endpoint's?"
        )
    return message


def explain(error: BaseException, base_url: str, retries: int) -> InventoryApiError | None:
    """An `InventoryApiError` for an expected API failure found in `error`, else None.

    `retries` is how many retries the caller's session made before giving up, so
    the message says truthfully what was tried.
    """
    for cause in _causes(error):
        if isinstance(cause, InventoryApiError):
            return cause
        if isinstance(cause, requests.HTTPError):
            return InventoryApiError(_http_message(cause, retries))
        if isinstance(cause, requests.Timeout):
            return InventoryApiError(
                f"The inventory API at {base_url} did not answer in time, "
                f"{retries} retries included. Re-run later, or raise "
                "INVENTORY_REQUEST_TIMEOUT_SECONDS if the API is slow."
            )
        if isinstance(cause, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            return InventoryApiError(
                f"Could not connect to the inventory API at {base_url}, or it broke off the "
                f"connection ({retries} retries included). Check "
                "INVENTORY_API_BASE_URL and that the API is reachable."
            )
    return None
