"""Vectorised validation: the catalogue's constraints compiled to Arrow compute, accept-only.

Validating event by event with pydantic costs microseconds each; a Parquet file of millions
of events deserves better. This module reads the constraints off the catalogue's models
(types, required fields, ``Literal`` choices, patterns, lengths, bounds, ISO 4217 codes) and
the catalogue's named validators, and evaluates them on whole Arrow columns.

It only ever *accepts*. A row it cannot vouch for, or a column type it does not know, goes
to pydantic, which decides and words the error. So the error messages are always the
catalogue's own, and the one thing this module must never do is accept a row pydantic would
refuse; a property test (``tests/ledger/test_arrowcheck.py``) holds it to that.
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, TypeAlias

import annotated_types
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AfterValidator, BeforeValidator, StringConstraints
from pydantic.fields import FieldInfo
from pydantic_extra_types.currency_code import ISO4217

from openscore.ledger.canonical import Prepared, fields_json, fields_of
from openscore.ledger.catalogue import (
    ENVELOPE_FIELDS,
    EVENT_TYPES,
    FUTURE_TOLERANCE,
    SCHEMA_VERSION,
    EventBase,
    type_fields,
)
from openscore.ledger.wide import field_types, unwrap_annotation, wide_schema

# A boolean Arrow array or chunked array (pyarrow ships no type information).
Mask: TypeAlias = Any
ColumnCheck = Callable[[Any], Mask]


class NotVectorisable(Exception):
    """A constraint this module has no Arrow equivalent for: such rows go to pydantic."""


@dataclass(frozen=True)
class FieldPlan:
    name: str
    kind: type
    required: bool
    checks: tuple[ColumnCheck, ...]


@dataclass(frozen=True)
class TypePlan:
    event_type: str
    fields: tuple[FieldPlan, ...]
    rules: tuple[Callable[[pa.Table, dt.datetime], Mask], ...]


def _value_checks(annotation: Any, metadata: list[Any]) -> tuple[type, list[ColumnCheck]]:
    checks: list[ColumnCheck] = []
    if typing.get_origin(annotation) is Literal:
        choices = list(typing.get_args(annotation))
        if not all(isinstance(c, str) for c in choices):
            raise NotVectorisable(f"literal {annotation!r}")
        value_set = pa.array(choices, pa.string())
        checks.append(lambda col: pc.is_in(col, value_set=value_set))
        kind: type = str
    elif annotation is ISO4217:
        codes = pa.array(sorted(ISO4217.allowed_currencies), pa.string())
        checks.append(lambda col: pc.is_in(col, value_set=codes))
        kind = str
    elif annotation in (bool, int, str, dt.date, dt.datetime):
        kind = annotation
    else:
        raise NotVectorisable(f"annotation {annotation!r}")
    for item in metadata:
        checks.extend(_metadata_checks(item))
    return kind, checks


def _metadata_checks(item: Any) -> list[ColumnCheck]:
    if isinstance(item, FieldInfo):  # Field(...) inside Annotated inside an Optional
        return [check for inner in item.metadata for check in _metadata_checks(inner)]
    if isinstance(item, StringConstraints):
        unsupported = (item.strip_whitespace, item.to_upper, item.to_lower, item.ascii_only)
        if any(unsupported):
            raise NotVectorisable(f"string constraint {item!r}")
        found: list[ColumnCheck] = []
        if item.pattern is not None:
            pattern = str(item.pattern)
            found.append(lambda col: pc.match_substring_regex(col, pattern=pattern))
        if item.min_length is not None:
            low = pa.scalar(item.min_length, pa.int32())
            found.append(lambda col: pc.greater_equal(pc.utf8_length(col), low))
        if item.max_length is not None:
            high = pa.scalar(item.max_length, pa.int32())
            found.append(lambda col: pc.less_equal(pc.utf8_length(col), high))
        return found
    comparisons: dict[type, tuple[str, Callable[..., Mask]]] = {
        annotated_types.Ge: ("ge", pc.greater_equal),
        annotated_types.Gt: ("gt", pc.greater),
        annotated_types.Le: ("le", pc.less_equal),
        annotated_types.Lt: ("lt", pc.less),
    }
    for kind, (attribute, compare) in comparisons.items():
        if isinstance(item, kind):
            bound = getattr(item, attribute)
            return [functools.partial(_compare, compare, pa.scalar(bound))]
    if isinstance(item, BeforeValidator) and item.func.__name__ == "_null_means_default":
        return []  # Arrow reads a null as absent already, and the default is applied after
    if isinstance(item, AfterValidator) and item.func.__name__ == "_check_schema_version":
        version = pa.scalar(SCHEMA_VERSION, pa.int64())
        return [lambda col: pc.equal(col, version)]
    raise NotVectorisable(f"constraint {item!r}")


def _compare(compare: Callable[..., Mask], bound: pa.Scalar, column: Any) -> Mask:
    return compare(column, bound)


# --- the catalogue's named validators, as column rules -----------------------------------


#: The first and last instants whose UTC value a Python datetime can hold (with a day spare).
EARLIEST_INSTANT = pa.scalar(dt.datetime(1, 1, 2, tzinfo=dt.UTC), pa.timestamp("us", "UTC"))
LATEST_INSTANT = pa.scalar(dt.datetime(9999, 12, 30, tzinfo=dt.UTC), pa.timestamp("us", "UTC"))


def _occurred_in_past(table: pa.Table, now: dt.datetime) -> Mask:
    instant = table["occurred_at"]
    latest = pa.scalar(now + FUTURE_TOLERANCE, pa.timestamp("us", "UTC"))
    return pc.and_(pc.less_equal(instant, latest), pc.greater_equal(instant, EARLIEST_INSTANT))


def _paid_not_after_report(table: pa.Table, _now: dt.datetime) -> Mask:
    return pc.less_equal(table["paid_date"], pc.cast(table["occurred_at"], pa.date32()))


def _not_self(table: pa.Table, _now: dt.datetime) -> Mask:
    return pc.not_equal(table["peer_member_id"], table["member_id"])


def _declares_something(table: pa.Table, _now: dt.datetime) -> Mask:
    return pc.or_(pc.is_valid(table["education"]), pc.is_valid(table["occupation"]))


VALIDATOR_RULES: dict[str, Callable[[pa.Table, dt.datetime], Mask]] = {
    "_occurred_at_is_aware_and_past": _occurred_in_past,
    "_paid_date": _paid_not_after_report,
    "_not_self": _not_self,
    "_declares_something": _declares_something,
}


@cache
def plan_for(event_type: str) -> TypePlan | None:
    """The compiled checks of one event type, or None when it cannot be vectorised."""
    model: type[EventBase] = EVENT_TYPES[event_type]
    try:
        fields = []
        for name in (*ENVELOPE_FIELDS, *type_fields(model)):
            if name == "type":
                continue
            info = model.model_fields[name]
            try:
                annotation, metadata, optional = unwrap_annotation(info.annotation)
            except TypeError as error:
                raise NotVectorisable(str(error)) from None
            kind, checks = _value_checks(annotation, [*metadata, *info.metadata])
            fields.append(FieldPlan(name, kind, info.is_required() and not optional, tuple(checks)))
        decorators = model.__pydantic_decorators__
        names = [*decorators.field_validators, *decorators.model_validators]
        unknown = [n for n in names if n not in VALIDATOR_RULES]
        if unknown:
            raise NotVectorisable(f"validators {unknown}")
        rules = tuple(VALIDATOR_RULES[n] for n in names)
    except NotVectorisable:
        return None
    return TypePlan(event_type, tuple(fields), rules)


def _column_fits(column: Any, kind: type) -> bool:
    """Whether Arrow values of this column are what strict pydantic accepts for ``kind``."""
    arrow_type = column.type
    if pa.types.is_null(arrow_type):
        return True
    if kind is bool:
        return bool(pa.types.is_boolean(arrow_type))
    if kind is int:
        return bool(pa.types.is_integer(arrow_type))
    if kind is str:
        return bool(pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type))
    if kind is dt.date:
        return bool(pa.types.is_date32(arrow_type))
    if kind is dt.datetime:
        return bool(
            pa.types.is_timestamp(arrow_type)
            and arrow_type.tz is not None
            and arrow_type.unit in ("s", "ms", "us")
        )
    return False


FALSE = pa.scalar(False)


def accepted(table: pa.Table, event_type: str, now: dt.datetime) -> pa.Array:
    """Rows of ``table`` (all claiming ``event_type``) that certainly pass the catalogue."""
    rows = table.num_rows
    nothing = pa.array(np.zeros(rows, dtype=bool))
    plan = plan_for(event_type)
    if plan is None:
        return nothing
    ok: Mask = pa.array(np.ones(rows, dtype=bool))
    allowed = {f.name for f in plan.fields} | {"type"}
    for name in table.column_names:
        if name not in allowed:
            ok = pc.and_(ok, pc.is_null(table[name]))
    for plan_field in plan.fields:
        if plan_field.name not in table.column_names:
            if plan_field.required:
                return nothing
            continue
        column = table[plan_field.name]
        if not _column_fits(column, plan_field.kind):
            return nothing
        valid = pc.is_valid(column)
        if plan_field.required:
            ok = pc.and_(ok, valid)
        for check in plan_field.checks:
            passed = pc.fill_null(check(column), FALSE)
            ok = pc.and_(ok, pc.or_(passed, pc.invert(valid)))
    for rule in plan.rules:
        ok = pc.and_(ok, pc.fill_null(rule(table, now), FALSE))
    result = pc.fill_null(ok, FALSE)
    if isinstance(result, pa.ChunkedArray):
        result = result.combine_chunks()
    return result


#: Characters orjson escapes inside a JSON string; rows holding them are rendered by orjson.
NEEDS_ESCAPE = r'["\\\x00-\x1f]'


def prepare_accepted(table: pa.Table, event_type: str, lines: list[int | None]) -> list[Prepared]:
    """``Prepared`` records for rows the checks accepted (``lines`` gives each row's line).

    Instants and the fields JSON are built for whole columns with Arrow; rows whose strings
    would need JSON escaping are rendered by ``canonical.fields_json`` instead.
    """
    rows = table.num_rows
    if rows == 0:
        return []
    instants = pc.cast(pc.cast(table["occurred_at"], pa.timestamp("us", "UTC")), pa.int64())
    fields, unsafe = _fields_json_column(table, event_type)
    if unsafe is not None and pc.any(unsafe).as_py():
        for row in pc.indices_nonzero(unsafe).to_pylist():
            values = {name: table[name][row].as_py() for name in table.column_names}
            fields[row] = fields_json(event_type, values)

    def column(name: str, default: Any = None) -> list[Any]:
        if name in table.column_names:
            values: list[Any] = (
                pc.fill_null(table[name], default).to_pylist()
                if default is not None
                else table[name].to_pylist()
            )
            return values
        return [default] * rows

    return [
        Prepared(source, event_id, event_type, member, instant, version, text, line, None, *rest)
        for source, event_id, member, instant, version, text, line, *rest in zip(
            column("source"),
            column("event_id"),
            column("member_id"),
            instants.to_pylist(),
            column("schema_version"),
            fields,
            lines,
            column("peer_member_id"),
            column("retracted_event_id"),
            column("terms_version"),
            column("connections_opt_in", False),
            strict=True,
        )
    ]


@cache
def _text(value: str) -> pa.Scalar:
    # Arrow scalars made once: converting a Python literal on every compute call is slow.
    return pa.scalar(value, pa.string())


def _fields_json_column(table: pa.Table, event_type: str) -> tuple[list[str], Mask | None]:
    """The fields JSON of every row, and which rows need escaping (rendered elsewhere)."""
    quote, nothing = _text('"'), _text("")
    pieces = []
    unsafe: Mask | None = None
    for name, default in fields_of(event_type):
        if name in table.column_names:
            column = table[name]
        else:
            column = pa.nulls(table.num_rows, wide_schema().field(name).type)
        if default is not None:
            column = pc.fill_null(column, default)
        kind = field_types()[name]
        if kind is str:
            risky = pc.fill_null(pc.match_substring_regex(column, pattern=NEEDS_ESCAPE), FALSE)
            unsafe = risky if unsafe is None else pc.or_(unsafe, risky)
            rendered = pc.binary_join_element_wise(quote, column, quote, nothing)
        elif kind is dt.date:
            text = pc.cast(column, pa.string())
            rendered = pc.binary_join_element_wise(quote, text, quote, nothing)
        else:
            rendered = pc.cast(column, pa.string())
        pieces.append(pc.binary_join_element_wise(_text(f'"{name}":'), rendered, nothing))
    if not pieces:
        return ["{}"] * table.num_rows, None
    body = pc.binary_join_element_wise(*pieces, _text(","), null_handling="skip")
    whole = pc.binary_join_element_wise(_text("{"), body, _text("}"), nothing)
    return whole.to_pylist(), unsafe
