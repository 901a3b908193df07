"""Fuzzed page contents: what loads is exactly the valid records the API served.

Hypothesis builds pages of valid records (any Unicode, nulls where allowed,
unknown extra fields) mixed with records that break the contract in one known
way. After a load, the table holds exactly the valid records with their values,
and every invalid one is in the rejected table.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from dagster import DagsterInstance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory_assets_tests.conftest import (
    CONTRACT_COLUMNS,
    as_warehouse_row,
    make_resources,
    make_simulator,
    materialize_partition,
)

DAY = "2026-11-03"
DAY_START = datetime(2026, 11, 3, tzinfo=UTC)
# Any Unicode a JSON API can carry, but NUL, which is a breakage of its own below.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
OPTIONAL_TEXT = st.none() | TEXT
PRICE = st.none() | st.decimals(0, 10**6, places=2, allow_nan=False).map(str)
EXTRA = st.dictionaries(
    st.from_regex(r"x_[a-z]{1,8}", fullmatch=True),
    st.none() | st.integers(-1000, 1000) | TEXT,
    max_size=3,
)
BREAKAGES = {
    "id": st.sampled_from([None, "seven", 1.5, True]),  # "7" would be a valid id: coerced
    "quantity": st.sampled_from([None, "abc", 2.5, False]),
    "unit_price": st.sampled_from(["n/a", "", "1,00"]),
    "updated_at": st.sampled_from([None, "yesterday", "2026-13-01T00:00:00Z"]),
    "inventory_id": st.sampled_from([None, "", 42]),
    "product_name": st.sampled_from([7, "nul\x00inside", ["list"]]),
}


@st.composite
def valid_record(draw, record_id: int) -> dict:
    moment = DAY_START + timedelta(seconds=draw(st.integers(0, 86399)))
    return {
        "id": record_id,
        "inventory_id": draw(TEXT.filter(bool)),
        "product_name": draw(OPTIONAL_TEXT),
        "sku": draw(OPTIONAL_TEXT),
        "quantity": draw(st.integers(0, 10**9)),
        "unit_price": draw(PRICE),
        "warehouse": draw(OPTIONAL_TEXT),
        "updated_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **draw(EXTRA),
    }


@st.composite
def page_contents(draw) -> tuple[list[dict], list[dict]]:
    ids = itertools.count(1)
    valid = [draw(valid_record(next(ids))) for _ in range(draw(st.integers(0, 150)))]
    invalid = []
    for _ in range(draw(st.integers(0, 5))):
        record = draw(valid_record(next(ids)))
        field = draw(st.sampled_from(sorted(BREAKAGES)))
        record[field] = draw(BREAKAGES[field])
        invalid.append(record)
    return valid, invalid


COUNTER = itertools.count()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(contents=page_contents())
def test_what_loads_is_exactly_the_valid_records(tmp_path: Path, contents) -> None:
    valid, invalid = contents
    example_dir = tmp_path / f"example-{next(COUNTER)}"
    duckdb_path = example_dir / "warehouse.duckdb"
    sim = make_simulator(rows=0)
    try:
        for record in valid + invalid:
            sim.put_raw(record)
        with DagsterInstance.ephemeral() as instance:
            materialize_partition(make_resources(sim.url, duckdb_path, example_dir), DAY, instance)
    finally:
        sim.stop()

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        loaded = con.execute(
            f"select {CONTRACT_COLUMNS} from inventory.inventory_data order by id"
        ).fetchall()
        rejected = (
            con.execute("select count(*) from inventory.inventory_data_rejected").fetchone()[0]
            if invalid
            else 0
        )
    assert loaded == [as_warehouse_row(record) for record in valid]
    assert rejected == len(invalid)
