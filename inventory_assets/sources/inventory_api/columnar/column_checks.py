"""A batch of pages checked at once, column by column in Arrow: the common case, made cheap.

Checking records one by one (`validation.py`) costs about 30 µs per record,
a quarter of a load. Nearly every batch is clean, so a batch is first checked
as columns: the Python types of each column's values (exact, as the record
checks are: a bool is no integer), then the typed Arrow array of the column,
built and checked in C. A batch passes only if every record would pass the
record checks unchanged, so the result is the same table those checks give
(`test_columnar.py` holds the two to that, on generated batches).

Anything else in a batch (a record that breaks the contract, a quoted number,
a field nobody declared, a record outside the window, a timestamp Arrow does
not parse) makes this return None, and the batch goes through the record
checks, which reject, convert, count and report exactly as before. A key
served twice needs no decision here: both paths log the keys, and the log
counts repeats once the pages are in (`keys.py`). This is a shortcut for
batches that need no decision, never a second set of rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from inventory_assets.sources.inventory_api.contract import Column
from inventory_assets.sources.inventory_api.validation import RecordChecker

# The JSON types each column type takes as is. Others (a quoted integer, a decimal
# as text) need the record checks, which convert them or reject the record.
_EXACT_TYPES: dict[str, frozenset[type]] = {
    "bigint": frozenset({int}),
    "text": frozenset({str}),
    "bool": frozenset({bool}),
    "double": frozenset({int, float}),
    "decimal": frozenset({int, float, str}),
    "timestamp": frozenset({str}),
}
# Spellings Arrow and the record checks read alike; any other goes to the record checks.
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
# Below this magnitude a double scaled by 10**scale is exact, so rounding it to
# the declared scale and back tells whether it had more places than declared.
_EXACT_DOUBLE = 2**53

Convert = Callable[[Column, list[Any], pa.DataType], pa.Array | None]


def _plain(column: Column, values: list[Any], arrow_type: pa.DataType) -> pa.Array | None:
    return pa.array(values, type=arrow_type)


def _text(column: Column, values: list[Any], arrow_type: pa.DataType) -> pa.Array | None:
    """Text the warehouse keeps as sent: no NUL; not empty where it may not be."""
    array = pa.array(values, type=arrow_type)
    if pc.any(pc.match_substring(array, "\x00")).as_py():
        return None
    if not column.nullable and "" in values:
        return None
    return array


def _all_match(strings: pa.Array, pattern: str) -> bool:
    return pc.all(pc.match_substring_regex(strings, pattern)).as_py() is not False


def _timestamp(column: Column, values: list[Any], arrow_type: pa.DataType) -> pa.Array | None:
    """ISO 8601 with seconds and an offset, parsed by Arrow (naive ones: record checks)."""
    strings = pa.array(values, type=pa.string())
    return strings.cast(arrow_type) if _all_match(strings, _TIMESTAMP) else None


def _decimal(column: Column, values: list[Any], arrow_type: pa.DataType) -> pa.Array | None:
    """Decimals that fit the declared precision and scale as sent, without rounding."""
    if type(next((value for value in values if value is not None), None)) is str:
        return _decimal_text(column, values, arrow_type)
    return _decimal_number(column, values, arrow_type)


def _decimal_text(column: Column, values: list[Any], arrow_type: pa.DataType) -> pa.Array | None:
    """Plain decimal text within the declared digits ("209.18"); exponents etc.: record checks."""
    scale = column.scale or 0
    whole = f"\\d{{1,{(column.precision or 38) - scale}}}"
    places = f"(\\.\\d{{1,{scale}}})?" if scale else ""
    strings = pa.array(values, type=pa.string())
    return strings.cast(arrow_type) if _all_match(strings, f"^-?{whole}{places}$") else None


def _decimal_number(column: Column, values: list[Any], arrow_type: pa.DataType) -> pa.Array | None:
    """JSON numbers that fit the declared scale: rounding to it and back changes none."""
    doubles = pa.array(values, type=pa.float64())
    scale = column.scale or 0
    largest = pc.max(pc.abs(doubles)).as_py()
    if largest is not None and largest * 10**scale >= _EXACT_DOUBLE:
        return None
    try:
        decimals = doubles.cast(arrow_type)
    except pa.ArrowInvalid:  # more integer digits than the precision allows
        return None
    if pc.all(pc.equal(decimals.cast(pa.float64()), doubles)).as_py() is False:
        return None  # (all null: nothing to compare, None)
    return decimals


_CONVERTERS: dict[str, Convert] = {
    "bigint": _plain,
    "text": _text,
    "bool": _plain,
    "double": _plain,
    "decimal": _decimal,
    "timestamp": _timestamp,
}


def _column(column: Column, values: list[Any], arrow_type: pa.DataType) -> pa.Array | None:
    """The column as a typed Arrow array, or None if any value needs a record check."""
    types = set(map(type, values))
    if type(None) in types:
        if not column.nullable:
            return None
        types.discard(type(None))
    if not types <= _EXACT_TYPES[column.type] or (str in types and len(types) > 1):
        return None
    try:
        return _CONVERTERS[column.type](column, values, arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # e.g. beyond int64
        return None


def _in_scope(checker: RecordChecker, moments: pa.Array) -> bool:
    scope = checker.scope
    if scope is None or len(moments) == 0:
        return True
    if moments.null_count:
        return False
    bounds = pc.min_max(moments).as_py()
    return scope.window.start <= bounds["min"] and bounds["max"] < scope.window.end


def typed_batch(checker: RecordChecker, records: list[Any], schema: pa.Schema) -> pa.Table | None:
    """The batch as a table of the declared columns if every record passes as it is, else None.

    On success the batch's keys are in the checker's key log, as the record checks
    would have put them (a key served twice is counted there, either way); on None
    nothing has changed, and the records are as they arrived.
    """
    declared = frozenset(schema.names)
    if set(map(type, records)) != {dict} or not all(map(declared.issuperset, records)):
        return None
    endpoint = checker.endpoint
    arrays = []
    for arrow_field, column in zip(schema, endpoint.columns, strict=True):
        array = _column(column, [record.get(column.name) for record in records], arrow_field.type)
        if array is None:
            return None
        arrays.append(array)
    table = pa.Table.from_arrays(arrays, schema=schema)
    if not _in_scope(checker, table.column(endpoint.cursor_field)):
        return None
    checker.keys.extend(table.column(endpoint.primary_key))
    return table
