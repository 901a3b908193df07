"""The columnar check is a shortcut, never a second set of rules.

Whatever batch it accepts, the record checks accept too, record for record,
and type into the same table; whatever needs a decision (a conversion, a
rejection, a duplicate, a record outside the window) it leaves to them,
untouched.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory_assets.sources.inventory_api import ExtractStats, Window
from inventory_assets.sources.inventory_api.columnar.arrow_types import arrow_schema
from inventory_assets.sources.inventory_api.columnar.batching import to_arrow
from inventory_assets.sources.inventory_api.columnar.column_checks import typed_batch
from inventory_assets.sources.inventory_api.validation import RecordChecker, WindowScope
from inventory_assets_tests.conftest import contract_endpoint

WINDOW = Window(datetime(2026, 11, 3, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC))


def _schema() -> pa.Schema:
    return arrow_schema(contract_endpoint())


def _record(record_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": record_id,
        "inventory_id": f"INV-{record_id}",
        "product_name": "Ünïcode ✓",
        "sku": None,
        "quantity": 3,
        "unit_price": "12.34",
        "warehouse": "WH-NYC",
        "updated_at": "2026-11-03T10:00:00Z",
        **fields,
    }


def _checker(scope: WindowScope | None = None) -> RecordChecker:
    return RecordChecker(ExtractStats(), contract_endpoint(), scope)


def _by_records(records: list[Any], scope: WindowScope | None = None) -> Any:
    """What the record checks make of the same batch: the table, or None if any record fails."""
    checker, copies = _checker(scope), copy.deepcopy(records)
    try:
        passed = all([checker(record) for record in copies])
    except Exception:
        return None
    return to_arrow(copies, _schema()) if passed else None


def test_a_clean_batch_is_the_table_the_record_checks_give() -> None:
    records = [
        _record(1, unit_price="0.0001"),
        _record(2, unit_price=None, updated_at="2026-11-03T10:00:00.123456+02:00"),
        _record(3, unit_price="-209.1800", product_name=None),
        _record(4, updated_at="2026-11-03 23:59:59Z"),
    ]
    checker = _checker()

    table = typed_batch(checker, copy.deepcopy(records), _schema())

    assert table is not None and table.equals(_by_records(records))
    assert checker.keys.keys().to_pylist() == [1, 2, 3, 4]


def test_json_numbers_as_decimals_are_the_same_as_their_text() -> None:
    numbers = [_record(1, unit_price=12.34), _record(2, unit_price=7), _record(3, unit_price=0.1)]

    table = typed_batch(_checker(), copy.deepcopy(numbers), _schema())

    assert table is not None and table.equals(_by_records(numbers))


@pytest.mark.parametrize(
    "odd",
    [
        _record(9, id="9"),  # a quoted integer: the record checks convert it
        _record(9, quantity=True),
        _record(9, quantity=3.0),
        _record(9, inventory_id=""),
        _record(9, inventory_id=None),
        _record(9, product_name="nul\x00inside"),
        _record(9, updated_at="2026-11-03T10:00:00"),  # naive: taken as UTC there
        _record(9, updated_at="yesterday"),
        _record(9, unit_price="12.30000"),  # five places: refused there
        _record(9, unit_price=12.34567),
        _record(9, unit_price="1e3"),
        _record(9, unit_price="999999999999999"),
        _record(9, unit_price=1e16),
        _record(9, unit_price="n/a"),
        _record(9, color="red"),  # undeclared: dlt infers it
        ["not", "a", "record"],
    ],
)
def test_anything_to_decide_is_left_to_the_record_checks_untouched(odd: Any) -> None:
    records = [_record(1), _record(2), odd]
    arrived = copy.deepcopy(records)
    checker = _checker()

    assert typed_batch(checker, records, _schema()) is None
    assert records == arrived, "the records stay as they arrived, for the record checks"
    assert len(checker.keys) == 0, "no key logged"


def test_a_key_served_twice_is_counted_the_same_by_either_path() -> None:
    """In one batch or across batches: the log counts each repeat, whichever check logged it."""
    by_columns = _checker()
    assert typed_batch(by_columns, [_record(1), _record(2), _record(1)], _schema()) is not None
    assert typed_batch(by_columns, [_record(2, quantity=4), _record(3)], _schema()) is not None

    by_records = _checker()
    for record in [_record(1), _record(2), _record(1), _record(2, quantity=4), _record(3)]:
        assert by_records(record)

    for checker in (by_columns, by_records):
        assert checker.stats.duplicate_ids == 2
        assert checker.stats.repeated_ids == [1, 2]


@pytest.mark.parametrize("vendor_filters", [True, False])
def test_a_record_outside_the_window_is_left_to_the_record_checks(vendor_filters: bool) -> None:
    scope = WindowScope(WINDOW, vendor_filters=vendor_filters)
    inside, outside = _record(1), _record(2, updated_at="2026-11-04T00:00:00Z")

    assert typed_batch(_checker(scope), [inside], _schema()) is not None
    assert typed_batch(_checker(scope), [inside, outside], _schema()) is None


def _mostly(valid: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """A valid value 19 times in 20, so that many batches pass whole."""
    return st.integers(0, 19).flatmap(lambda roll: odd if roll == 0 else valid)


# Values the vendor may send for each field: valid ones, and now and then one that
# needs a decision (a conversion, a rejection, a record outside the window).
MOMENT = st.datetimes(datetime(2026, 11, 3), datetime(2026, 11, 3, 23, 59), timezones=st.just(UTC))
REQUIRED = {
    "id": _mostly(st.integers(0, 10**6), st.sampled_from(["7", None, 1.5, True])),
    "inventory_id": _mostly(st.text(min_size=1, max_size=5), st.sampled_from(["", None, 4])),
    "quantity": _mostly(st.integers(-5, 10**12), st.sampled_from([2.0, False, "4", None])),
    "updated_at": _mostly(
        MOMENT.map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
        st.sampled_from(
            ["2026-11-03T10:00:00", "2026-11-03T10:00:00+05:30", "2026-11-04T00:00:00Z", "x"]
        ),
    ),
}
OPTIONAL = {
    "product_name": _mostly(st.text(max_size=5) | st.none(), st.sampled_from([7, "a\x00"])),
    "unit_price": _mostly(
        st.none()
        | st.decimals(-(10**6), 10**6, places=4, allow_nan=False).map(str)
        | st.floats(-1e6, 1e6, allow_nan=False).map(lambda number: round(number, 2))
        | st.integers(-(10**9), 10**9),
        st.sampled_from(["1e3", "12.", ".5", "+1", "1_0", "00012.5", "1.23456", 1e16, 0.12345])
        | st.floats(allow_nan=False, allow_infinity=False),
    ),
}
RECORD = st.fixed_dictionaries(REQUIRED, optional=OPTIONAL)


@settings(max_examples=300, deadline=None)
@given(st.lists(RECORD, min_size=1, max_size=6), st.booleans())
def test_whatever_the_columnar_check_accepts_the_record_checks_accept_alike(
    records: list[dict], windowed: bool
) -> None:
    scope = WindowScope(WINDOW, vendor_filters=False) if windowed else None

    table = typed_batch(_checker(scope), copy.deepcopy(records), _schema())

    if table is not None:
        assert table.equals(_by_records(records, scope))
