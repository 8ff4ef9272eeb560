"""The wide, tabular form of events: one column per field of the catalogue.

CSV files, Parquet files and the lake hold events of every type in one table: the envelope
columns, then every type-specific field; a row fills only its own type's fields. The column
types are derived from the catalogue, so there is one definition of what an event is.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

import orjson
import pyarrow as pa

from openscore.ledger.catalogue import ENVELOPE_FIELDS, EVENT_MODELS, EventBase, type_fields

ENVELOPE_ARROW: dict[str, pa.DataType] = {
    "schema_version": pa.int64(),
    "event_id": pa.string(),
    "type": pa.string(),
    "member_id": pa.string(),
    "occurred_at": pa.timestamp("us", tz="UTC"),
    "source": pa.string(),
}


def unwrap_annotation(annotation: Any) -> tuple[Any, list[Any], bool]:
    """(bare annotation, metadata, nullable) of a field annotation such as ``Identifier | None``.

    The catalogue's annotations are at most an optional of an ``Annotated`` alias; anything
    else (a union of two types) raises ``TypeError``.
    """
    metadata: list[Any] = []
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                raise TypeError(f"union of several types: {annotation!r}")
            nullable = True
            annotation = members[0]
        elif origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        else:
            return annotation, metadata, nullable


def _scalar_type(annotation: Any) -> type:
    """The Python scalar behind an annotation (``int | None`` → int, ``Literal['a']`` → str)."""
    annotation, _, _ = unwrap_annotation(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        kinds = {type(a) for a in typing.get_args(annotation)}
        (kind,) = kinds
        return kind
    if isinstance(annotation, type):
        for base in (bool, int, str, dt.datetime, dt.date):
            if issubclass(annotation, base):
                return base
    raise TypeError(f"no tabular type for annotation {annotation!r}")


_ARROW_OF: dict[type, pa.DataType] = {
    bool: pa.bool_(),
    int: pa.int64(),
    str: pa.string(),
    dt.date: pa.date32(),
    dt.datetime: pa.timestamp("us", tz="UTC"),
}


@cache
def field_types() -> dict[str, type]:
    """Every type-specific field with its Python scalar type; one meaning per name."""
    found: dict[str, type] = {}
    for model in EVENT_MODELS:
        for name in type_fields(model):
            scalar = _scalar_type(model.model_fields[name].annotation)
            if found.setdefault(name, scalar) is not scalar:
                raise TypeError(
                    f"field {name!r} is {found[name].__name__} in one event type and "
                    f"{scalar.__name__} in {model.__name__}: one name, one meaning"
                )
    return found


@cache
def date_fields() -> tuple[str, ...]:
    """The type-specific fields that hold dates (ISO text in the store's JSON)."""
    return tuple(name for name, kind in field_types().items() if kind is dt.date)


def stored_to_wide(row: Any, columns: Sequence[str]) -> dict[str, Any]:
    """A stored event row in the wide form: its JSON ``fields`` with dates as dates, then the
    row's own ``columns`` (envelope and provenance, as the caller selected them)."""
    record: dict[str, Any] = orjson.loads(row.fields)
    for name in date_fields():
        if name in record:
            record[name] = dt.date.fromisoformat(record[name])
    for name in columns:
        record[name] = getattr(row, name)
    return record


@cache
def wide_columns() -> tuple[str, ...]:
    """Envelope columns first, then every type-specific field in catalogue order."""
    return ENVELOPE_FIELDS + tuple(field_types())


@cache
def wide_schema() -> pa.Schema:
    """The Arrow schema of the wide form (all type-specific columns nullable)."""
    columns = [pa.field(name, t, nullable=False) for name, t in ENVELOPE_ARROW.items()]
    columns += [pa.field(name, _ARROW_OF[t]) for name, t in field_types().items()]
    return pa.schema(columns)


def event_to_wide(event: EventBase) -> dict[str, Any]:
    """One event as a wide row of Python values (missing fields are None)."""
    row: dict[str, Any] = dict.fromkeys(wide_columns())
    row.update(event.model_dump())
    return row


def format_csv_value(value: Any) -> str:
    """A Python value as a CSV cell that the catalogue reads back to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
