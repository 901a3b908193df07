"""RecordIndex: the served records in (updated_at, primary key) order, pre-encoded for paging.

The server must be cheap enough that benchmarks measure the client, so every
record is JSON-encoded once and a page is a bisect plus a bytes join. The
inventory records are keyed by `id`, the warehouses by `code`.
"""

import contextlib
import itertools
import json
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from inventory_api_sim.timestamps import instant_key, parse_timestamp

__all__ = ["Key", "RecordIndex", "encode"]

# (instant_key of updated_at, primary key, raw sequence): the serving order. The
# sequence is 0 for the data set and unique for each raw record, so raw records
# that repeat an id, or another record's whole key, are all kept. One index holds
# one type of primary key, so keys always compare.
PrimaryKey = int | str
Key = tuple[str, PrimaryKey, int]
_TIMELESS = ""  # time key of a raw record without a valid updated_at: sorts first

# One encoder for all records: json.dumps would build a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(record: dict) -> bytes:
    """A record as the compact UTF-8 JSON the pages are joined from."""
    return _ENCODER.encode(record).encode()


def _time_key(updated_at: str) -> str:
    # Generated records are "YYYY-MM-DDTHH:MM:SSZ": skip the parser for them.
    if len(updated_at) == 20 and updated_at[-1] == "Z":
        return updated_at[:19] + ".000000"
    return instant_key(parse_timestamp(updated_at))


def _raw_key(record: dict, sequence: int) -> Key:
    """Where a raw record sorts: a missing or non-integer id as 0, no valid updated_at first."""
    record_id = record.get("id")
    if not isinstance(record_id, int) or isinstance(record_id, bool):
        record_id = 0
    time_key = _TIMELESS
    updated_at = record.get("updated_at")
    if isinstance(updated_at, str):
        with contextlib.suppress(ValueError, OverflowError):  # the full parser, no fast path
            time_key = instant_key(parse_timestamp(updated_at))
    return time_key, record_id, sequence


class RecordIndex:
    """Records in serving order as pre-encoded JSON, for bisect paging.

    Only the encoded bytes are kept, not the dicts: a million records stay
    affordable, and serving never encodes. Callers hold the simulator's lock.
    """

    def __init__(self, records: list[dict], primary_key: str = "id") -> None:
        self.primary_key = primary_key
        ids = [record[primary_key] for record in records]
        times = [_time_key(record["updated_at"]) for record in records]
        # Two stable sorts on plain keys (id, then time) give (updated_at, id)
        # order several times faster than sorting tuples.
        order = sorted(range(len(records)), key=ids.__getitem__)
        order.sort(key=times.__getitem__)
        self.keys: list[Key] = [(times[i], ids[i], 0) for i in order]
        self.bodies: list[bytes] = [encode(records[i]) for i in order]
        # Data-set records only: touches and deletes change those, never raw records.
        self.key_of: dict[PrimaryKey, Key] = {key[1]: key for key in self.keys}
        self._raw_sequence = itertools.count(1)
        self.timeless = 0  # raw records without a valid updated_at: the first in keys

    def window(self, since: str | None, before: str | None) -> tuple[int, int]:
        """(low, high): keys[low:high] are the records with since <= updated_at < before.

        Timeless raw records (keys[:timeless]) open every window as well: a
        vendor cannot compare their time with the bounds, so none excludes them.
        """
        low = self.timeless if since is None else bisect_left(self.keys, (since,))
        high = len(self.keys) if before is None else bisect_left(self.keys, (before,))
        return low, max(low, high)

    def ids_between(self, since: str, before: str) -> list[PrimaryKey]:
        """Primary keys of the data-set records with since <= updated_at < before."""
        low, high = self.window(since, before)
        return [key[1] for key in self.keys[low:high] if key[2] == 0]

    def newest(self) -> str | None:
        """The greatest time key; None when no record has a valid updated_at."""
        return self.keys[-1][0] if self.keys and self.keys[-1][0] != _TIMELESS else None

    def get(self, record_id: PrimaryKey) -> dict:
        """The data-set record with this primary key."""
        return json.loads(self.bodies[bisect_left(self.keys, self.key_of[record_id])])

    def put(self, record: dict) -> None:
        """Replace a data-set record by primary key, moving it to where its updated_at sorts."""
        record_id = record[self.primary_key]
        self._drop(record_id)
        new = (_time_key(record["updated_at"]), record_id, 0)
        self._insert(new, encode(record))
        self.key_of[record_id] = new

    def remove(self, record_id: PrimaryKey) -> dict:
        """Take a data-set record out of the index, as a vendor's hard delete does; return it."""
        record = self.get(record_id)
        self._drop(record_id)
        del self.key_of[record_id]
        return record

    def put_raw(self, record: dict[str, Any]) -> None:
        """Add a record exactly as given, however invalid, in its serving place."""
        body = encode(record)  # first, so a record JSON cannot hold changes nothing
        key = _raw_key(record, next(self._raw_sequence))
        self._insert(key, body)
        if key[0] == _TIMELESS:
            self.timeless += 1

    def clear_raw(self) -> None:
        """Drop every raw record, keeping the data set as it is."""
        kept = [i for i, key in enumerate(self.keys) if key[2] == 0]
        self.keys = [self.keys[i] for i in kept]
        self.bodies = [self.bodies[i] for i in kept]
        self.timeless = 0

    def add_field(self, name: str, value: Any) -> None:
        """Set a field on every record, raw ones included."""
        self.map_field(name, lambda _: value)

    def map_field(self, name: str, change: Callable[[Any], Any]) -> None:
        """Replace a field on every record (raw ones included) by `change` of its value."""
        self.bodies = [
            encode({**record, name: change(record.get(name))})
            for record in map(json.loads, self.bodies)
        ]

    def in_id_order(self) -> list[bytes]:
        """Every body by primary key (invalid ids as 0); ties: the data set's, then raw as put."""
        pairs = sorted(zip(self.keys, self.bodies, strict=True), key=lambda pair: pair[0][1:])
        return [body for _, body in pairs]

    def _drop(self, record_id: PrimaryKey) -> None:
        """Delete a data-set record's key and body; key_of is the caller's to update."""
        position = bisect_left(self.keys, self.key_of[record_id])
        del self.keys[position], self.bodies[position]

    def _insert(self, key: Key, body: bytes) -> None:
        position = bisect_left(self.keys, key)
        self.keys.insert(position, key)
        self.bodies.insert(position, body)
