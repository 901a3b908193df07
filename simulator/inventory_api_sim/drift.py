"""How the simulator changes a field's JSON type, as vendors do without notice.

Used by `InventoryApiSimulator.retype_field` and `POST /_control/retype`, so
tests and the demo can show the pipeline's schema-drift handling.
"""

from collections.abc import Callable
from typing import Any


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


RETYPES: dict[str, Callable[[Any], Any]] = {"text": _as_text, "number": _as_number}
