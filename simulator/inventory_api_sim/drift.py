"""How the simulator changes a field's JSON type, as vendors do without notice.

Used by `InventoryApiSimulator.retype_field` and `POST /_control/retype`, so
tests and the demo can show the pipeline's schema-drift handling, and by the
numbers_as_strings and integers_as_floats deviations, which retype fields as
they are served only.
"""

import json
from collections.abc import Callable
from typing import Any

from inventory_api_sim.pages import Shape
from inventory_api_sim.records import encode


def _as_text(value: Any) -> Any:
    """A value as the text a vendor would send for it (`true`, `12`, `12.5`)."""
    if value is None or isinstance(value, str):
        return value
    return str(value).lower() if isinstance(value, bool) else str(value)


def _as_number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


Retype = Callable[[Any], Any]
RETYPES: dict[str, Retype] = {"text": _as_text, "number": _as_number}


def _retyped(names: tuple[str, ...], kinds: type | tuple[type, ...], change: Retype) -> Shape:
    """A page shape that sends these fields' values of `kinds` as `change` makes them.

    Booleans never change (they are ints to Python, not to a vendor), nor do
    nulls or a raw record's odd values, and only on the way out: the stored
    records, and what tests read, keep their types.
    """

    def retype(value: Any) -> Any:
        return change(value) if isinstance(value, kinds) and not isinstance(value, bool) else value

    def shape(bodies: list[bytes]) -> list[bytes]:
        records = [json.loads(body) for body in bodies]
        for record in records:
            for name in names:
                if name in record:
                    record[name] = retype(record[name])
        return [encode(record) for record in records]

    return shape


def _as_float(value: int) -> float | int:
    """An integer as the float a serializer writes for it; one beyond any float stays."""
    try:
        return float(value)
    except OverflowError:
        return value


def numbers_as_text(names: tuple[str, ...]) -> Shape:
    """A page shape that sends these fields' numbers as numeric text: 100296 as "100296"."""
    return _retyped(names, (int, float), str)


def integers_as_floats(names: tuple[str, ...]) -> Shape:
    """A page shape that sends these fields' integers as integral floats: 100296 as 100296.0."""
    return _retyped(names, int, _as_float)
