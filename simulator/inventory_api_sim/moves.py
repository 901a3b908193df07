"""A busy vendor's records change while a client pages: the moves_while_paging deviation.

A client that pages a time window by offset assumes the window holds still. A
busy vendor's does not: a record the client was already served is updated,
sorts to the window's end, and every record after it slides back one place,
so the next page skips one record and the moved one is served a second time.
Numbered pages (page_number, header_link, json_link) are offsets too and meet
the same moves; a cursor request never spends one, as its keyset cursor would
skip nothing (paging.py): the deviation is for paging by position.
"""

import random

from inventory_api_sim.listing import PageRequest
from inventory_api_sim.records import RecordIndex
from inventory_api_sim.timestamps import format_timestamp, key_moment
from inventory_api_sim.touches import other_quantity

__all__ = ["moved_record"]


def moved_record(index: RecordIndex, request: PageRequest, rng: random.Random) -> dict | None:
    """The window's first data-set record as a vendor update moves it; None if none can move.

    It moves only if the client was served it already (it sorts before
    `offset`, which is 0 for a cursor request) and the window has both bounds.
    Its new updated_at lies halfway between the window's newest record and the
    window's end, so it sorts last and stays in the window (None if no
    microsecond fits between them); its quantity changes too. Raw records
    never move, as touches never change them. The caller holds the
    simulator's lock and puts the record back.
    """
    if request.offset == 0 or request.since is None or request.before is None:
        return None
    low, high = index.window(request.since, request.before)
    first = next((i for i in range(low, high) if index.keys[i][2] == 0), None)
    if first is None or index.timeless + first - low >= request.offset:
        return None
    newest = key_moment(index.keys[high - 1][0])
    half = (key_moment(request.before) - newest) // 2
    if not half:  # less than two microseconds left: no instant lies strictly between
        return None
    record = index.get(index.keys[first][1])
    return record | {
        "updated_at": format_timestamp(newest + half),
        "quantity": other_quantity(rng, record["quantity"]),
    }
