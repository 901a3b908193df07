"""How the simulated gateway misbehaves: status faults and hostile answers.

The client must be tested against a vendor that fails (fail_next, fault_rate)
and one that answers wrongly (serve_next): HTML where JSON was due, pages
without data, a stall, a connection reset mid-body, a page far over the limit,
a complete answer whose JSON stops halfway.
Scripted answers are used in the order they were scripted, before random faults.
"""

import random
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from inventory_api_sim.config import SimulatorConfig
from inventory_api_sim.pages import Page
from inventory_api_sim.responses import HTML, Response, error, phrase

__all__ = ["FAULT_STATUSES", "HOSTILE_KINDS", "FaultScript", "Hostile", "StatusFault"]

FAULT_STATUSES = (429, 500, 502, 503, 504)
HOSTILE_KINDS = (
    "html",
    "no_data",
    "data_not_list",
    "empty",
    "stall",
    "reset",
    "huge",
    "short",
    "truncated",
)
_OPTION_OF = {"stall": "seconds", "huge": "records"}  # the one option a kind takes
_HTML_PAGE = (
    b"<html><body><h1>502 Bad Gateway</h1>"
    b"<p>The upstream server returned an invalid response.</p><hr><p>nginx</p></body></html>"
)


def _half(body: bytes) -> int:
    """Where to cut a UTF-8 body in half: at a character's start, so only the JSON breaks."""
    cut = len(body) // 2
    while cut and body[cut] & 0xC0 == 0x80:  # 0b10xxxxxx continues a character
        cut -= 1
    return cut


@dataclass(frozen=True)
class StatusFault:
    """An error status from the gateway, before the API sees the key."""

    status: int
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError("status must be 4xx or 5xx")

    def response(self) -> Response:
        headers: tuple[tuple[str, str], ...] = ()
        if self.status == 429 and self.retry_after is not None:
            headers = (("Retry-After", str(self.retry_after)),)
        return error(self.status, f"simulated fault: {self.status} {phrase(self.status)}", headers)


@dataclass(frozen=True)
class Hostile:
    """A wrong answer to one page request; `seconds` is for stall, `records` for huge."""

    kind: str
    seconds: float = 5.0
    records: int = 20_000

    def __post_init__(self) -> None:
        if self.kind not in HOSTILE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(HOSTILE_KINDS)}")
        if not self.seconds >= 0:  # also rejects NaN
            raise ValueError("seconds must be a number >= 0")
        if not isinstance(self.records, int) or self.records < 1:
            raise ValueError("records must be an integer >= 1")

    @classmethod
    def of(cls, kind: str, options: dict[str, Any]) -> "Hostile":
        """A kind with its options; an option the kind does not take is a mistake."""
        unknown = set(options) - {_OPTION_OF.get(kind)}
        if unknown:
            raise ValueError(f"{kind} takes no option {', '.join(sorted(unknown))}")
        return cls(kind, **options)

    def preempt(self) -> Response | None:
        """Act before the page is built: a stall sleeps, html answers without a page."""
        if self.kind == "stall":
            time.sleep(self.seconds)
        if self.kind == "html":
            return Response(200, _HTML_PAGE, content_type=HTML)
        return None

    def answer(self, page: Page) -> Response:
        """The page as this kind bends it, with the page's headers (a Link, say).

        The caller holds the lock the page is a view under.
        """
        return replace(self._bent(page), headers=page.headers)

    def _bent(self, page: Page) -> Response:
        """The answer of this kind, before the page's headers are added."""
        match self.kind:
            case "no_data":
                return Response(200, page.encode(None))
            case "data_not_list":
                return Response(200, page.encode(b'{"unexpected":"object"}'))
            case "empty":
                return Response(200, page.encode(b"[]"))
            case "huge":
                return Response(200, page.encode(page.data(page.repeated(self.records))))
            case "short":  # a page that silently lost its second half; `total` stays true
                records = page.records()
                return Response(200, page.encode(page.data(records[: len(records) // 2])))
        body = page.body()
        if self.kind == "reset":  # headers announce the whole body; half of it is sent
            return Response(200, body, abort_after=len(body) // 2)
        if self.kind == "truncated":  # a complete response, Content-Length and all
            return Response(200, body[: _half(body)])
        return Response(200, body)  # a stall answers normally, late


class FaultScript:
    """The next answers the gateway gives instead of the API's; callers hold the lock."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._rate = config.fault_rate
        self._retry_after = config.retry_after_seconds
        self._rng = random.Random(config.seed)
        self._scripted: deque[StatusFault | Hostile] = deque()

    def add(self, answer: StatusFault | Hostile, times: int) -> None:
        """Use `answer` for the next `times` requests, after those scripted before."""
        if times < 1:
            raise ValueError("times must be >= 1")
        self._scripted.extend([answer] * times)

    def next(self) -> StatusFault | Hostile | None:
        """The scripted answer due, else a random fault at the configured rate, else None."""
        if self._scripted:
            return self._scripted.popleft()
        if self._rate and self._rng.random() < self._rate:
            return StatusFault(self._rng.choice(FAULT_STATUSES), self._retry_after)
        return None
