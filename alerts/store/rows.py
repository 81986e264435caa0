"""Between store rows and domain dataclasses by field name.

A domain dataclass and its table name their columns alike, so a mapper reads each field off the
row's attribute of the same name and spells out only what differs (a JSON column that becomes a
nested object, the reports of an incident). A field added to both shows up without a third list.

    alert = from_row(Alert, row)                          # an ORM row or a Core result row
    mitigation = from_row(Mitigation, row, effect=effect)  # one field given, the rest read
    values = field_values(warning, leave_out=("id",))     # for an insert of a new row
"""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")


def from_row(cls: type[D], row: object, **given: Any) -> D:
    """A ``cls`` whose fields are ``given`` or else ``row``'s attributes of the same names.

    The row's values are trusted as the store's writers made them (a state column holds one of
    the ``Literal``'s strings because only those are written)."""
    read = {name: getattr(row, name) for name in _field_names(cls) if name not in given}
    return cls(**read, **given)


def field_values(obj: DataclassInstance, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of ``obj`` by name, nested objects as they are (unlike ``asdict``)."""
    return {name: getattr(obj, name) for name in _field_names(type(obj)) if name not in leave_out}


@cache
def _field_names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    """The names of ``cls``'s fields, in order (read once per class)."""
    return tuple(field.name for field in fields(cls))
