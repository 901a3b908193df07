"""The keys one window's pages held, kept compactly, and what they say about the paging.

A window's keys tell whether the API served a record twice (then the window
is short by as many records) and, after a whole listing, which rows the
vendor no longer has. A Python set of them costs about 60 bytes per key
(60 MB for a million-record day, held for the whole load); as Arrow arrays
they cost the key's width (8 bytes for an integer). Duplicates only need
counting, since the merge on the key keeps one row either way, so they are
counted once the pages are in, by one sort of the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Repeats:
    """How many keys arrived again after their first record, and the first few of them."""

    count: int
    first: list[Any]


class KeyLog:
    """Every key of one window in arrival order: Arrow chunks, plus the keys of records
    checked one at a time since the last chunk."""

    def __init__(self, arrow_type: pa.DataType) -> None:
        self.arrow_type = arrow_type
        self._chunks: list[pa.Array] = []
        self._single: list[Any] = []
        self._counted: tuple[int, int, Repeats] | None = None  # (keys, sample, repeats)

    def __deepcopy__(self, memo: dict) -> KeyLog:
        # Like ExtractStats: a copy dlt makes of the steps must log into the one
        # object the stats read.
        return self

    def add(self, key: Any) -> None:
        """One record's key (the record checks)."""
        self._single.append(key)

    def extend(self, keys: pa.Array | pa.ChunkedArray) -> None:
        """A whole batch's keys (the columnar checks), already of the key's type."""
        self._seal()
        self._chunks.extend(keys.chunks if isinstance(keys, pa.ChunkedArray) else [keys])

    def __len__(self) -> int:
        return sum(map(len, self._chunks)) + len(self._single)

    def keys(self) -> pa.ChunkedArray:
        self._seal()
        return pa.chunked_array(self._chunks, type=self.arrow_type)

    def repeats(self, sample: int) -> Repeats:
        """The keys served more than once: counted over all chunks by sorting them, and
        the first `sample` of them listed, in the order they came again.

        Sorting, not hashing: Arrow's hash kernels (`count_distinct`, `unique`) took
        about 200 bytes per key, a gigabyte for a 5,000,000-record day; a stable sort
        takes 16 (the order and the sorted keys), and as long.
        """
        if self._counted is not None and self._counted[:2] == (len(self), sample):
            return self._counted[2]
        keys = self.keys()
        found = _repeats(keys, sample) if len(keys) > 1 else Repeats(0, [])
        self._counted = (len(keys), sample, found)
        return found

    def _seal(self) -> None:
        """The single keys gathered so far become one chunk, so arrival order is kept."""
        if self._single:
            self._chunks.append(pa.array(self._single, type=self.arrow_type))
            self._single = []


def _repeats(keys: pa.ChunkedArray, sample: int) -> Repeats:
    """Sorted stably, a key equal to the one before it is a repeat, and its position in
    `keys` says when it came; the earliest `sample` positions give the listed ones."""
    order = pc.sort_indices(keys)
    ordered = keys.take(order)
    again = pc.filter(order[1:], pc.equal(ordered[1:], ordered[:-1]))
    if not len(again):
        return Repeats(0, [])
    first = pc.take(again, pc.sort_indices(again)[:sample])
    return Repeats(len(again), keys.take(first).to_pylist())


def not_in(candidates: list[Any], log: KeyLog) -> list[Any]:
    """The `candidates` (e.g. the keys a table holds) that `log` never saw."""
    if not candidates:
        return []
    wanted = pa.array(candidates, type=log.arrow_type)
    listed = log.keys()
    if not len(listed):
        return list(candidates)
    present = pc.is_in(wanted, value_set=pa.concat_arrays(listed.chunks))
    return wanted.filter(pc.invert(present)).to_pylist()
