"""A vendor's quota, kept on the client: at most so many requests per second to one origin.

`max_concurrency` and the pool bound how many requests are in flight, not how
many leave per second, so a vendor with a quota of a few requests a second
answers a backfill with 429s. `RateLimiter` spaces the requests instead: each
one goes out at least `(1 + MARGIN) / per_second` seconds after the one before.
Spaced that way, no one-second window holds more than `per_second` requests
(a fractional rate: rounded up, its long-run rate below it), even when their
arrival at the vendor jitters by up to MARGIN seconds (the network, a thread
woken late on a busy machine).

One limiter per origin and rate is shared by every session of the process
(`shared_limiter`): a load's concurrent days, its checks, the sensors and the
probe all draw on the same quota. Several processes (Dagster's multiprocess
executor, the pool's concurrent steps) each hold their own: the settings
divide the quota among them (`api.rate_limit_processes`). A 429's
`Retry-After` still wins: dlt's retry waits it out, and the retry is spaced
like any other request.
"""

from __future__ import annotations

import threading
import time

# The part of each interval kept spare: the jitter in seconds a one-second window tolerates.
MARGIN = 0.05

_shared: dict[tuple[str, float], RateLimiter] = {}
_shared_lock = threading.Lock()


class RateLimiter:
    """Hands out send times spaced `(1 + MARGIN) / per_second` apart; thread-safe."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be > 0")
        self.per_second = per_second
        self._interval = (1 + MARGIN) / per_second
        self._next = 0.0  # monotonic time of the next free slot
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Sleep until this caller's slot; returns the wall-clock time the wait held things up.

        The slot is taken under the lock and slept outside it, so callers queue
        in arrival order and none holds the others up while it sleeps. Concurrent
        callers wait side by side: a caller queued behind others adds only its
        own interval to the time anyone waits, so the sum of what `wait` returns
        is the time requests were held back, each moment counted once (not the
        sum of every thread's sleep).
        """
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
        return min(delay, self._interval)


def shared_limiter(origin: str, per_second: float) -> RateLimiter:
    """The process's one limiter for requests to `origin` at `per_second`."""
    with _shared_lock:
        limiter = _shared.get((origin, per_second))
        if limiter is None:
            limiter = _shared[(origin, per_second)] = RateLimiter(per_second)
        return limiter
