"""What one extraction saw, filled in while it runs and reported as materialization metadata."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inventory_assets.sources.inventory_api.contract import RETRY_STATUSES

if TYPE_CHECKING:
    from inventory_assets.sources.inventory_api.columnar.keys import KeyLog

REPEATED_SAMPLE = 10


@dataclass(frozen=True)
class Rejection:
    """A record kept out of the table, with why."""

    id: Any
    reason: str
    record: Any
    column: str | None = None  # for a field of the wrong JSON type: which,
    expected: str | None = None  # the type the contract declares,
    seen: str | None = None  # and the type that arrived

    @property
    def type_changed(self) -> bool:
        """A declared column arrived as another JSON type (not null, not a bad value)."""
        return self.seen not in (None, "null", self.expected)


@dataclass
class ExtractStats:
    """Counters from the transport, the page checks and the record checks of one load."""

    requests: int = 0
    passes: int = 0  # times the window was paged (it is paged again when it came up short)
    pages: int = 0
    retryable_failures: int = 0
    total_announced: int | None = None
    total_missing: bool = False  # a page said no total: no completeness check is possible
    records_received: int = 0
    page_size_seen: int = 0  # the most records one page held
    outside_window: int = 0  # records a client-side window left out (client_window mode)
    values_masked: int = 0  # strings of 2xx pages that held the API key, masked as ***
    rate_limit_wait_seconds: float = 0.0  # wall-clock time requests were held by the quota
    key_logs: list[KeyLog] = field(default_factory=list)  # one per window (resource)
    rejected: list[Rejection] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _waiting: int = field(default=0, repr=False)  # this load's requests waiting for the quota
    _waiting_since: float = field(default=0.0, repr=False)

    def __deepcopy__(self, memo: dict) -> ExtractStats:
        # dlt deep-copies the source config (paginator included); the copies must
        # keep counting into this one object, which the caller reads afterwards.
        return self

    def start_pass(self) -> None:
        """Forget what an earlier pass over the window saw; requests and retries add up."""
        with self._lock:
            self.passes += 1
            self.pages = self.records_received = self.page_size_seen = 0
            self.outside_window = self.values_masked = 0
            self.total_announced, self.total_missing = None, False
            self.key_logs, self.rejected = [], []

    def track_keys(self, log: KeyLog) -> None:
        """Count repeats in `log`, a window's keys (its checker fills it)."""
        with self._lock:
            self.key_logs.append(log)

    @property
    def duplicate_ids(self) -> int:
        """Records whose key an earlier record of the same window had."""
        return sum(log.repeats(REPEATED_SAMPLE).count for log in self.key_logs)

    @property
    def repeated_ids(self) -> list[Any]:
        """The first few keys served twice, for messages."""
        found = [key for log in self.key_logs for key in log.repeats(REPEATED_SAMPLE).first]
        return found[:REPEATED_SAMPLE]

    @property
    def distinct_received(self) -> int:
        """Records the pages held, each id counted once."""
        return self.records_received - self.duplicate_ids

    @property
    def missing(self) -> int:
        """How many of the records the API announced (`total`) no page delivered.

        `id` is the contract's primary key, so fewer distinct ids than `total`
        means records were skipped: moved by a change while the window was
        paged, or lost by the API (a short page, a repeated id). Without a
        total, each repeated id is counted instead: a record that moved to a
        later page while it was paged pushed another one onto a page already
        read, so a repeat is the one sign left of a record that may be skipped.
        """
        if self.total_missing:
            return self.duplicate_ids
        return max(0, (self.total_announced or 0) - self.distinct_received)

    def type_changes(self) -> list[dict[str, Any]]:
        """Declared columns that arrived as another JSON type: which, how often, first ids."""
        changes: dict[tuple, dict[str, Any]] = {}
        for rejection in self.rejected:
            if rejection.type_changed:
                key = (rejection.column, rejection.expected, rejection.seen)
                change = changes.setdefault(
                    key,
                    {"column": key[0], "expected": key[1], "seen": key[2], "records": 0, "ids": []},
                )
                change["records"] += 1
                if len(change["ids"]) < REPEATED_SAMPLE:
                    change["ids"].append(rejection.id)
        return list(changes.values())

    def record_attempt(self, status: int | None) -> None:
        """Count one HTTP attempt; `None` stands for a connection error or timeout."""
        with self._lock:
            self.requests += 1
            if status is None or status in RETRY_STATUSES:
                self.retryable_failures += 1

    @contextmanager
    def held_by_quota(self) -> Iterator[None]:
        """Time a request waits for the quota (`api.max_requests_per_second`), as wall-clock
        time in which any of this load's requests waited: side by side, counted once."""
        with self._lock:
            if self._waiting == 0:
                self._waiting_since = time.monotonic()
            self._waiting += 1
        try:
            yield
        finally:
            with self._lock:
                self._waiting -= 1
                if self._waiting == 0:
                    self.rate_limit_wait_seconds += time.monotonic() - self._waiting_since

    def record_malformed_page(self) -> None:
        """A 2xx page that broke the contract; it is retried like a transient fault."""
        with self._lock:
            self.retryable_failures += 1

    def record_page(self, first: bool, total: int | None, records: int) -> None:
        """Count a valid page. A window's `first` page announces its `total`; a range
        fetched as daily windows announces the sum of theirs."""
        with self._lock:
            self.pages += 1
            self.page_size_seen = max(self.page_size_seen, records)
            if total is None:
                self.total_missing = True
            elif first:
                self.total_announced = (self.total_announced or 0) + total
            self.records_received += records

    def record_masked_values(self, count: int) -> None:
        """Strings of a page's data that held the API key and were masked."""
        with self._lock:
            self.values_masked += count

    def record_outside_window(self) -> None:
        with self._lock:
            self.outside_window += 1

    def record_rejection(self, rejection: Rejection) -> None:
        with self._lock:
            self.rejected.append(rejection)
