"""The component's YAML model, as dg sees it: the settings' own fields, each also a template.

`InventorySettings` (settings.py) declares every field, type and default once.
dg needs them before the templates are rendered (`dg check yaml`, `dg utils
inspect-component`, editor completion of `defs.yaml`), when a field such as
`page_size` still holds `"{{ env.INVENTORY_PAGE_SIZE }}"`. This module derives
that model from the settings, the way dg derives a `Resolvable`'s: the same
fields, nested models and discriminated unions, with every value also allowed
to be a template string. Unknown fields, a missing tag and a secret written
literally are refused here; values are checked once, when the settings validate
the rendered attributes, with the one-line error that names their variable.
"""

from __future__ import annotations

from functools import cache
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    create_model,
)

from inventory_assets.settings import InventorySettings

# A value dg leaves to the load: `{{ env.NAME }}` or `{{ env('NAME', 'default') }}`.
Template = Annotated[
    str,
    StringConstraints(pattern=r"\{\{.*\}\}"),
    Field(description="A template rendered when the code location loads, e.g. {{ env.NAME }}"),
]


class _Written(BaseModel):
    """A settings model as written in YAML: unknown keys are typos."""

    model_config = ConfigDict(extra="forbid")


def _holds_a_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_a_model(arg) for arg in get_args(annotation))


def _leaf(annotation: Any) -> Any:
    """A value: any in the model (settings.py checks it once rendered, in one line that
    names its variable), its type or a template in the schema editors and dg read."""
    schema = TypeAdapter(annotation | Template).json_schema()
    return Annotated[Any, WithJsonSchema(schema)]


def _written_type(annotation: Any) -> Any:
    """`annotation` as written: each settings model its written model, each value a leaf."""
    if not _holds_a_model(annotation):
        return _leaf(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:  # a secret's or a paginator's validators, a union's tag
        return Annotated[(_written_type(args[0]), *annotation.__metadata__)]
    if origin in (Union, UnionType):
        return Union[tuple(NoneType if arg is NoneType else _written_type(arg) for arg in args)]  # noqa: UP007
    if origin is dict:
        return dict[str, _written_type(args[1])]
    if origin is list:
        return list[_written_type(args[0])]
    return written_model(annotation)


@cache
def written_model(settings: type[BaseModel]) -> type[BaseModel]:
    """The YAML model of a settings model: its fields, defaults and docs, templates allowed."""
    fields: dict[str, Any] = {}
    for name, info in settings.model_fields.items():
        # A union's tag stays what it is, so dg and editors pick the member by it.
        annotation = info.rebuild_annotation()
        if name != "type":
            annotation = _written_type(annotation)
        default = (
            Field(default_factory=info.default_factory)
            if info.default_factory is not None
            else Field(default=info.default)
        )
        fields[name] = (annotation, default)
    return create_model(
        f"{settings.__name__.removesuffix('Settings')}Attributes",
        __base__=_Written,
        __doc__=settings.__doc__,
        **fields,
    )


def component_model() -> type[BaseModel]:
    """The model of `defs.yaml`'s `attributes:`."""
    return written_model(InventorySettings)
