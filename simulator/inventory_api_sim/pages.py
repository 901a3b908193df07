"""Page: one page of a time window, as the contract shapes it or as a hostile vendor bends it.

{"data": [ {record}, ... ], "total": 2345, "offset": 0, "limit": 100}

Other vendors' paging styles wrap the same records in envelopes of their own (paging.py).
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Envelope", "Page", "Shape", "json_list"]

Shape = Callable[[list[bytes]], list[bytes]]
# The page's JSON around its data (JSON text, or None to leave the data out).
Envelope = Callable[["Page", bytes | None], bytes]


@dataclass(slots=True)  # not frozen: one is built per request, and frozen inits are slow
class Page:
    """A view of the index for one request; use it while holding the simulator's lock.

    The window is the index's first `timeless` records (raw ones without a valid
    updated_at, which no time bound can exclude), then bodies[low:high].
    `total_delta` is added to the true total (clamped at 0), so the simulator
    can lie about `total` while the data stays true. The other options are the
    vendor's deviations (deviations.py): a cap below `limit`, a total over the
    whole index or none at all, null for a page without records, and `shape`,
    which bends the records as served. `envelope` and `headers` are another
    paging style's body around the data and its headers (paging.dress).
    """

    bodies: list[bytes]  # the whole index, in serving order
    timeless: int
    low: int  # >= timeless
    high: int
    offset: int
    limit: int  # as asked for, and echoed even when `cap` serves fewer (see paging.position)
    total_delta: int = 0
    cap: int | None = None
    total_of_all: bool = False
    show_total: bool = True
    null_when_empty: bool = False
    shape: Shape | None = None
    envelope: Envelope | None = None  # None: the contract's {"data", "total", "offset", "limit"}
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def size(self) -> int:
        """Records in the window: what `total` says when the simulator does not lie."""
        return self.timeless + self.high - self.low

    @property
    def total(self) -> int:
        counted = len(self.bodies) if self.total_of_all else self.size
        return max(0, counted + self.total_delta)

    @property
    def served(self) -> int:
        """How many records a page serves at most: `limit`, or `cap` if that is less."""
        return self.limit if self.cap is None else min(self.limit, self.cap)

    @property
    def has_more(self) -> bool:
        """True if records of the window follow this page's."""
        return self.offset + self.served < self.size

    def records(self) -> list[bytes]:
        """The records this page holds: at most `served` from `offset`."""
        return self._shaped(self._window(self.offset, self.offset + self.served))

    def repeated(self, count: int) -> list[bytes]:
        """`count` records regardless of limit: the window's, else the data set's, cycled."""
        source = self._window(0, self.size) or self.bodies
        return self._shaped(list(itertools.islice(itertools.cycle(source), count)))

    def body(self) -> bytes:
        """The page as the vendor shapes it (the contract's shape, unless it deviates)."""
        return self.encode(self.data(self.records()))

    def data(self, records: list[bytes]) -> bytes:
        """Records as this vendor writes "data": a JSON array, or null if there are none."""
        return b"null" if self.null_when_empty and not records else json_list(records)

    def encode(self, data: bytes | None) -> bytes:
        """The page as JSON with `data` as the given JSON text; None leaves the key out."""
        if self.envelope is not None:
            return self.envelope(self, data)
        total = b'"total":%d,' % self.total if self.show_total else b""
        fields = total + b'"offset":%d,"limit":%d}' % (self.offset, self.limit)
        return (b"{" if data is None else b'{"data":%b,' % data) + fields

    def index_position(self, position: int) -> int:
        """Where record `position` (0-based) of the window is in the index."""
        return position if position < self.timeless else self.low + position - self.timeless

    def _shaped(self, bodies: list[bytes]) -> list[bytes]:
        return bodies if self.shape is None else self.shape(bodies)

    def _window(self, start: int, stop: int) -> list[bytes]:
        """Records start..stop of the window (0-based, stop exclusive), in serving order."""
        stop = min(stop, self.size)
        start = min(start, stop)
        prefix = self.timeless
        timed = self.bodies[self.low + max(start - prefix, 0) : self.low + max(stop - prefix, 0)]
        return self.bodies[start : min(stop, prefix)] + timed if start < prefix else timed


def json_list(bodies: list[bytes]) -> bytes:
    """Encoded records as one JSON array."""
    return b"[%b]" % b",".join(bodies)
