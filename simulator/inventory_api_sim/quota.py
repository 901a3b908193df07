"""A vendor's quota: at most so many requests a second, the rest answered 429 with Retry-After.

Real vendors enforce a rate with a sliding window and tell the client how long
to wait. `Quota` keeps the arrival times of the requests it admitted over the
last second; one more than `per_second` in that window is refused, and not
counted against the quota (so a client that waits as told gets in).
"""

import math
from collections import deque

from inventory_api_sim.responses import Response, error

__all__ = ["WINDOW_SECONDS", "Quota"]

WINDOW_SECONDS = 1.0


class Quota:
    """Admits at most `per_second` requests in any one-second window; the caller locks."""

    def __init__(self) -> None:
        self._admitted: deque[float] = deque()  # arrival times within the last second
        self.refused = 0  # requests answered 429 for the quota

    def admit(self, now: float, per_second: int | None) -> Response | None:
        """None to serve a request that arrived at `now` (monotonic), else its 429."""
        if per_second is None:  # no quota: a quota switched on later counts from then on
            self._admitted.clear()
            return None
        while self._admitted and self._admitted[0] <= now - WINDOW_SECONDS:
            self._admitted.popleft()
        if len(self._admitted) < per_second:
            self._admitted.append(now)
            return None
        self.refused += 1
        wait = max(1, math.ceil(self._admitted[0] + WINDOW_SECONDS - now))
        return error(
            429,
            f"rate limit exceeded: at most {per_second} requests per second",
            (("Retry-After", str(wait)),),
        )
