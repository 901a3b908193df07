"""A vendor's quota, kept on the client: at most so many requests per second to one origin.

`max_concurrency` and the pool bound how many requests are in flight, not how
many leave per second, so a vendor with a quota of a few requests a second
answers a backfill with 429s. `RateLimiter` keeps the quota as the vendor
counts it, over a sliding window: a request goes out only while fewer than the
quota left in the last second, and its time is taken once it may go, right
before it is sent, so a thread that wakes late (a busy machine) cannot crowd
the next second. The window is MARGIN longer than a second, which absorbs that
much jitter between the client's clock and the vendor's arrivals (the network).
A fractional rate (a quota divided among processes) keeps to the whole number
of requests below it per second, or to one per 1/rate seconds below one.

One limiter per origin and rate is shared by every session of the process
(`shared_limiter`): a load's concurrent days, its checks, the sensors, the
probe, the watch and the plan all draw on the same quota. Several processes
(Dagster's multiprocess executor, the pool's concurrent steps) each hold their
own: the settings divide the quota among them (`api.rate_limit_processes`). A
429's `Retry-After` still wins: dlt's retry waits it out, and the retry waits
for its place in the window like any other request.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

# The part of a second added to the window: the jitter, in seconds, it tolerates.
MARGIN = 0.05

_shared: dict[tuple[str, float], RateLimiter] = {}
_shared_lock = threading.Lock()


def window_of(per_second: float) -> tuple[int, float]:
    """How the limiter keeps `per_second`: at most this many requests in any window of
    this many seconds (a second and MARGIN, or longer for a rate below one)."""
    if per_second <= 0:
        raise ValueError("per_second must be > 0")
    burst = max(1, math.floor(per_second))
    return burst, max(1.0, burst / per_second) * (1 + MARGIN)


def pace(per_second: float) -> float:
    """The requests per second the limiter lets through over time, for `per_second`."""
    burst, window = window_of(per_second)
    return burst / window


class RateLimiter:
    """At most `per_second` requests in any second (and MARGIN); thread-safe and fair:
    callers go out in the order they asked, so none waits behind later ones."""

    def __init__(self, per_second: float) -> None:
        self._burst, self._window = window_of(per_second)
        self._sent: deque[float] = deque()  # when the requests of the window went out
        self._queue: deque[object] = deque()  # the callers waiting, first come first
        self._turn = threading.Condition()

    def wait(self) -> None:
        """Return once this caller's request may go out.

        Only the first caller in line watches the clock (it sleeps until the
        window's oldest request leaves it); the others sleep until it has gone.
        The request's time is taken as it is let through, right before it is sent.
        """
        me = object()
        with self._turn:
            self._queue.append(me)
            while True:
                now = time.monotonic()
                while self._sent and self._sent[0] <= now - self._window:
                    self._sent.popleft()
                first = self._queue[0] is me
                if first and len(self._sent) < self._burst:
                    self._queue.popleft()
                    self._sent.append(now)
                    self._turn.notify_all()
                    return
                self._turn.wait(self._sent[0] + self._window - now if first else None)


def shared_limiter(origin: str, per_second: float) -> RateLimiter:
    """The process's one limiter for requests to `origin` at `per_second`."""
    with _shared_lock:
        limiter = _shared.get((origin, per_second))
        if limiter is None:
            limiter = _shared[(origin, per_second)] = RateLimiter(per_second)
        return limiter
