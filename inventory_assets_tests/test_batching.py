"""The page batcher: checked records become typed Arrow batches, nothing is lost."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pyarrow as pa

from inventory_assets.sources.inventory_api import (
    ExtractStats,
    Window,
    inventory_source,
)
from inventory_assets.sources.inventory_api.columnar.arrow_types import arrow_schema
from inventory_assets.sources.inventory_api.columnar.batching import PageBatcher, to_arrow
from inventory_assets.sources.inventory_api.paging import LAST_PAGE_FLAG
from inventory_assets.sources.inventory_api.validation import RecordChecker
from inventory_assets_tests.conftest import (
    TEST_API_KEY,
    contract_endpoint,
    day_window,
    expected_records,
    make_simulator,
)


class Page(list):
    """A page as dlt's REST client hands it on: a list with the response attached."""

    def __init__(self, records: list[dict[str, Any]], last: bool = False) -> None:
        super().__init__(records)
        self.response = SimpleNamespace(**({LAST_PAGE_FLAG: True} if last else {}))


def _record(record_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": record_id,
        "inventory_id": f"INV-{record_id}",
        "quantity": 3,
        "unit_price": "12.3400",
        "updated_at": "2026-11-03T10:00:00Z",
        **fields,
    }


def _run(batcher: PageBatcher, *pages: Page) -> list[Any]:
    """Call the step page by page, then consume what it returned last page first:
    dlt may consume a step's returned iterators later and out of page order."""
    returned = [batcher(page) for page in pages]
    return [item for items in reversed(returned) if items is not None for item in items]


def test_checked_records_convert_to_the_contract_types_exactly() -> None:
    records = [
        _record(1, unit_price="0.0001", product_name="Ünïcode ✓"),
        _record(2, unit_price=7, updated_at="2026-11-03T10:00:00.123456+02:00"),
        _record(3, unit_price=None, updated_at="2026-11-03T10:00:00"),
    ]
    checker = RecordChecker(ExtractStats(), contract_endpoint())
    assert all(checker(record) for record in records)

    table = to_arrow(records, arrow_schema(contract_endpoint()))

    assert table.schema == arrow_schema(contract_endpoint())
    rows = table.to_pylist()
    assert [row["unit_price"] for row in rows] == [Decimal("0.0001"), Decimal("7"), None]
    assert [row["updated_at"] for row in rows] == [
        datetime(2026, 11, 3, 10, tzinfo=UTC),
        datetime(2026, 11, 3, 8, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 11, 3, 10, tzinfo=UTC),  # a naive timestamp is taken as UTC
    ]
    assert rows[0]["product_name"] == "Ünïcode ✓"
    assert rows[1]["sku"] is None, "a missing optional field is null"


def test_batches_flush_when_full_and_at_the_last_page() -> None:
    batcher = PageBatcher(RecordChecker(ExtractStats(), contract_endpoint()), batch_rows=150)

    items = _run(
        batcher,
        Page([_record(i) for i in range(100)]),
        Page([_record(i) for i in range(100, 200)]),
        Page([_record(i) for i in range(200, 300)]),
        Page([_record(i) for i in range(300, 330)], last=True),
    )

    assert sorted(item.num_rows for item in items) == [30, 100, 200], "first page at once"
    ids = sorted(row["id"] for item in items for row in item.to_pylist())
    assert ids == list(range(330)), "no record buffered after the window's final flush"


def test_an_empty_last_page_flushes_what_is_buffered() -> None:
    batcher = PageBatcher(RecordChecker(ExtractStats(), contract_endpoint()))

    items = _run(batcher, Page([_record(1), _record(2)]), Page([], last=True))

    assert [item.num_rows for item in items] == [2]


def test_undeclared_fields_and_invalid_records_never_reach_the_arrow_batch() -> None:
    stats = ExtractStats()
    batcher = PageBatcher(RecordChecker(stats, contract_endpoint()))

    items = _run(
        batcher,
        Page([_record(1), _record(2, color="red"), _record(3, quantity="many")], last=True),
    )

    untyped, typed = items
    assert [(r["id"], r["color"]) for r in untyped] == [(2, "red")], "dlt infers new columns"
    assert isinstance(typed, pa.Table) and typed.column("id").to_pylist() == [1]
    assert [(r.id, r.reason) for r in stats.rejected] == [
        (3, "quantity: expected integer, got str 'many'")
    ]


def test_a_parallel_range_yields_every_record_once() -> None:
    """Daily windows extracted in parallel: each flushes its own batch at its last page."""
    simulator = make_simulator(rows=5000)  # 1,000 records, 10 pages a day
    window = Window(day_window("2026-11-02")[0], day_window("2026-11-04")[1])
    source = inventory_source(
        simulator.url, TEST_API_KEY, window, endpoint=contract_endpoint(), split_daily=True
    )
    try:
        items = list(source)
    finally:
        simulator.stop()

    tables = [item for item in items if isinstance(item, pa.Table)]
    ids = sorted(row_id for table in tables for row_id in table.column("id").to_pylist())
    assert ids == [record["id"] for record in expected_records(simulator, window.start, window.end)]
    assert len(tables) == 2 * 3, "per day its first page, then one batch of the other nine"
