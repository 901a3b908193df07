"""The declared columns as Arrow types: what the typed batches and the key logs hold."""

from __future__ import annotations

import pyarrow as pa

from inventory_assets.sources.inventory_api.contract import Column, Endpoint

_ARROW_TYPES = {
    "bigint": lambda _: pa.int64(),
    "text": lambda _: pa.string(),
    "bool": lambda _: pa.bool_(),
    "double": lambda _: pa.float64(),
    "decimal": lambda column: pa.decimal128(column.precision, column.scale),
    "timestamp": lambda _: pa.timestamp("us", tz="UTC"),
}


def arrow_type(column: Column) -> pa.DataType:
    return _ARROW_TYPES[column.type](column)


def arrow_schema(endpoint: Endpoint) -> pa.Schema:
    """The declared columns as an Arrow schema, in declared order."""
    return pa.schema(
        [
            pa.field(column.name, arrow_type(column), nullable=column.nullable)
            for column in endpoint.columns
        ]
    )
