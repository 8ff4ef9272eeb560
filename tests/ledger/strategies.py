"""Hypothesis strategies for valid catalogue events, derived from the catalogue itself.

Every field's strategy is read from its annotation: ``Literal`` choices, ``ge``/``gt``/``le``
bounds, string patterns and lengths, dates, ISO 4217 codes, optional fields (sometimes absent,
sometimes ``None``). Only the model validators, which cannot be introspected, are spelled out
here (``_MODEL_RULES``); a new validator in the catalogue needs a line there.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import annotated_types
import pycountry
from hypothesis import assume
from hypothesis import strategies as st
from pydantic import BaseModel, StringConstraints
from pydantic.fields import FieldInfo
from pydantic_extra_types.currency_code import ISO4217

from openscore.ledger.catalogue import (
    EVENT_MODELS,
    EVENT_TYPES,
    MAX_AMOUNT,
    SCHEMA_VERSION,
    BillPaid,
    ConnectionMade,
    EventBase,
    InstallmentPaid,
    ProfileDeclared,
    event_type_name,
    type_fields,
)
from openscore.ledger.wide import field_types, wide_columns

#: Validation clock for generated events; every generated ``occurred_at`` is before it.
NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
EARLIEST = dt.datetime(1900, 1, 1)
LATEST = dt.datetime(2025, 6, 29)
#: Parquet and JSON carry 64-bit integers; the catalogue leaves amounts unbounded above
#: (see test_catalogue_properties.TestKnownGaps), so generation stops at the int64 limit.
INT64_MAX = 2**63 - 1
CURRENCIES: tuple[str, ...] = tuple(sorted(c.alpha_3 for c in pycountry.currencies))
OFFSETS = (
    dt.UTC,
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(dt.timedelta(hours=-8)),
)
#: Any Unicode text a file can carry: everything but lone surrogates, which no UTF-8 can hold.
TEXT_CHARACTERS = st.characters(codec="utf-8")

Strategy = st.SearchStrategy[Any]


def _constraints(metadata: Iterable[Any]) -> list[Any]:
    """Flatten ``Field(...)`` and ``StringConstraints`` metadata into one list."""
    found: list[Any] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            found.extend(_constraints(item.metadata))
        else:
            found.append(item)
    return found


def _int_values(constraints: list[Any]) -> Strategy:
    low, high = -INT64_MAX - 1, INT64_MAX
    for item in constraints:
        if isinstance(item, annotated_types.Ge):
            low = max(low, int(item.ge))  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Gt):
            low = max(low, int(item.gt) + 1)  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Le):
            high = min(high, int(item.le))  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Lt):
            high = min(high, int(item.lt) - 1)  # type: ignore[call-overload]
    return st.integers(min_value=low, max_value=high)


def _str_values(constraints: list[Any]) -> Strategy:
    for item in constraints:
        if isinstance(item, StringConstraints) and item.pattern is not None:
            return st.from_regex(item.pattern, fullmatch=True)
    low, high = 0, None
    for item in constraints:
        if isinstance(item, StringConstraints):
            low = item.min_length if item.min_length is not None else low
            high = item.max_length if item.max_length is not None else high
        elif isinstance(item, annotated_types.MinLen):
            low = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            high = item.max_length
    return st.text(TEXT_CHARACTERS, min_size=low, max_size=high)


def values_of(annotation: Any, metadata: Iterable[Any] = ()) -> Strategy:
    """Valid non-null values of one annotation with its constraints."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return st.one_of([values_of(option, metadata) for option in options])
    if origin is Annotated:
        base, *extra = typing.get_args(annotation)
        return values_of(base, [*metadata, *extra])
    if origin is Literal:
        return st.sampled_from(typing.get_args(annotation))
    constraints = _constraints(metadata)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return _int_values(constraints)
    if isinstance(annotation, type) and issubclass(annotation, ISO4217):
        return st.sampled_from(CURRENCIES)
    if annotation is str:
        return _str_values(constraints)
    if annotation is dt.datetime:
        return occurred_at()
    if annotation is dt.date:
        return st.dates()
    raise TypeError(f"no strategy for annotation {annotation!r}")


def is_nullable(field: FieldInfo) -> bool:
    origin = typing.get_origin(field.annotation)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(
        field.annotation
    )


def field_values(model: type[BaseModel], name: str) -> Strategy:
    """Valid non-null values of one field of ``model``."""
    field = model.model_fields[name]
    if name == "schema_version":  # its only constraint is an AfterValidator
        return st.just(SCHEMA_VERSION)
    return values_of(field.annotation, field.metadata)


def occurred_at() -> st.SearchStrategy[dt.datetime]:
    """Aware instants in the past, to the microsecond, with a few UTC offsets."""
    return st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.sampled_from(OFFSETS))


_Absent = object()


def _optional(values: Strategy, *, nullable: bool) -> Strategy:
    """An optional field: left out, ``None`` (when nullable) or a value."""
    choices = [st.just(_Absent), values]
    if nullable:
        choices.insert(1, st.none())
    return st.one_of(choices)


# --- the model validators ------------------------------------------------------------------

Rule = Callable[[st.DrawFn, dict[str, Any]], None]


def _paid_by_occurrence(draw: st.DrawFn, record: dict[str, Any]) -> None:
    reported = record["occurred_at"].astimezone(dt.UTC).date()
    record["paid_date"] = draw(st.dates(max_value=reported))


def _peer_is_someone_else(draw: st.DrawFn, record: dict[str, Any]) -> None:
    member = record["member_id"]
    peers = field_values(ConnectionMade, "peer_member_id").filter(lambda peer: peer != member)
    record["peer_member_id"] = draw(peers)


def _declares_something(draw: st.DrawFn, record: dict[str, Any]) -> None:
    if record.get("education") is None and record.get("occupation") is None:
        name = draw(st.sampled_from(["education", "occupation"]))
        record[name] = draw(field_values(ProfileDeclared, name))


_MODEL_RULES: dict[type[EventBase], Rule] = {
    BillPaid: _paid_by_occurrence,
    InstallmentPaid: _paid_by_occurrence,
    ConnectionMade: _peer_is_someone_else,
    ProfileDeclared: _declares_something,
}


# --- events --------------------------------------------------------------------------------


@st.composite
def event_values(draw: st.DrawFn, model: type[EventBase]) -> dict[str, Any]:
    """The field values of one valid ``model`` event, as Python objects (absent fields left out)."""
    record: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name == "type":
            record[name] = event_type_name(model)
            continue
        values = field_values(model, name)
        if not field.is_required():
            values = _optional(values, nullable=is_nullable(field))
        value = draw(values)
        if value is not _Absent:
            record[name] = value
    rule = _MODEL_RULES.get(model)
    if rule is not None:
        rule(draw, record)
    return record


def events_of(model: type[EventBase]) -> st.SearchStrategy[EventBase]:
    """Valid events of one type, validated by the catalogue against ``NOW``."""
    return event_values(model).map(
        lambda record: model.model_validate(record, context={"now": NOW})
    )


def events() -> st.SearchStrategy[EventBase]:
    """Valid events of any type in the catalogue, every type equally likely."""
    return st.sampled_from(EVENT_MODELS).flatmap(events_of)


def event_lists(*, max_size: int = 12) -> st.SearchStrategy[list[EventBase]]:
    """Streams of events of mixed types."""
    return st.lists(events(), min_size=1, max_size=max_size)


# --- invalid events: one mutation of a valid one, and the field it must be blamed on --------

Form = Literal["jsonl", "csv", "parquet"]
_ENVELOPE_KINDS: dict[str, type] = {"schema_version": int, "occurred_at": dt.datetime}
#: Values of the wrong type for each scalar kind, as JSON values and as CSV cells. A CSV cell
#: is text whatever it holds, so text fields cannot be given a wrong type there, and a Parquet
#: column has one type, so the wrong-type case of Parquet is a whole column (test_bad_files).
_WRONG_JSON: dict[type, list[Any]] = {
    str: [123, True, 1.5, [], {"k": "v"}],
    int: ["12", 1.5, True, [1], {"k": 1}],
    bool: ["true", 1, []],
    dt.date: [20240101, True, ["2024-01-01"]],
    dt.datetime: [1_700_000_000, True, {"at": "2024-01-01T00:00:00Z"}],
}
_WRONG_CSV: dict[type, list[Any]] = {
    int: ["twelve", "1.5", "0x10", "1_0_0_0_"],
    bool: ["maybe", "2", "truth"],
    dt.date: ["yesterday", "2024-13-01", "2024-02-30"],
    dt.datetime: ["soon", "2024-13-01T00:00:00Z", "2024-01-01T25:00:00Z"],
}


@dataclass(frozen=True)
class Mutation:
    """A record with one thing made wrong, and the single error it must be reported with."""

    kind: str
    record: dict[str, Any]
    """Field values as Python objects; absent fields left out."""
    field: str | None
    message: str
    """A regular expression the error message must match."""
    in_header: bool = False
    """A CSV column no event type has: the header is refused, not the row."""


def scalar_kind(name: str) -> type:
    """The Python scalar of a field (``str`` for text, literals and currencies)."""
    return _ENVELOPE_KINDS.get(name) or field_types().get(name, str)


def _field_constraints(model: type[EventBase], name: str) -> list[Any]:
    field = model.model_fields[name]
    found = _constraints(field.metadata)
    for part in typing.get_args(field.annotation):
        if typing.get_origin(part) is Annotated:
            found += _constraints(typing.get_args(part)[1:])
    return found


def int_bounds(model: type[EventBase], name: str) -> tuple[int | None, int | None]:
    """The inclusive (low, high) bounds of an integer field, ``None`` where unbounded."""
    low: int | None = None
    high: int | None = None
    for item in _field_constraints(model, name):
        if isinstance(item, annotated_types.Ge):
            low = int(item.ge)  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Gt):
            low = int(item.gt) + 1  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Le):
            high = int(item.le)  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Lt):
            high = int(item.lt) - 1  # type: ignore[call-overload]
    return low, high


def money_fields(model: type[EventBase]) -> list[str]:
    """Amounts in minor units: integer fields of a type with a currency, bounded above only by
    the int64 limit every store shares."""
    if "currency" not in model.model_fields:
        return []
    return [
        name
        for name in type_fields(model)
        if scalar_kind(name) is int and int_bounds(model, name)[1] in (None, MAX_AMOUNT)
    ]


def _literal_choices(model: type[EventBase], name: str) -> tuple[Any, ...]:
    annotation = model.model_fields[name].annotation
    for part in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(part) is Literal:
            return typing.get_args(part)
    return ()


def _string_rule(model: type[EventBase], name: str) -> StringConstraints | None:
    rules = [c for c in _field_constraints(model, name) if isinstance(c, StringConstraints)]
    return rules[0] if rules else None


def _bounded(model: type[EventBase], side: int) -> list[tuple[str, int]]:
    """Integer fields with a lower (``side=0``) or upper (``side=1``) bound, with the bound."""
    found = []
    for name in type_fields(model):
        if scalar_kind(name) is int:
            bound = int_bounds(model, name)[side]
            if bound is not None:
                found.append((name, bound))
    return found


Mutate = Callable[[st.DrawFn, type[EventBase], dict[str, Any], Form], Mutation]


def _missing_required(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    name = draw(st.sampled_from([n for n, f in model.model_fields.items() if f.is_required()]))
    message = "required field 'type' is missing" if name == "type" else "required field is missing"
    rest = {k: v for k, v in record.items() if k != name}
    return Mutation("missing_required", rest, name, re.escape(message))


def _wrong_type(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    table = _WRONG_CSV if form == "csv" else _WRONG_JSON
    names = [n for n in model.model_fields if n != "type" and scalar_kind(n) in table]
    name = draw(st.sampled_from(names))
    value = draw(st.sampled_from(table[scalar_kind(name)]))
    return Mutation("wrong_type", {**record, name: value}, name, r"^Input should be")


def _unknown_field(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    others = sorted(set(field_types()) - set(model.model_fields))
    invented = st.from_regex(r"[a-z][a-z_]{0,20}", fullmatch=True).filter(
        lambda n: n not in wide_columns()
    )
    name = draw(
        st.sampled_from(others) if form == "parquet" else st.sampled_from(others) | invented
    )
    if name in others:
        owner = next(m for m in EVENT_MODELS if name in m.model_fields)
        value = draw(field_values(owner, name))
        message = f"^unknown field for a {event_type_name(model)} event$"
        return Mutation("unknown_field", {**record, name: value}, name, message)
    in_header = form == "csv"
    message = "^unknown column" if in_header else "^unknown field"
    return Mutation("unknown_field", {**record, name: "1"}, name, message, in_header=in_header)


def _below_minimum(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    name, low = draw(st.sampled_from(_bounded(model, 0)))
    value = draw(st.integers(min_value=low - 10**15, max_value=low - 1))
    return Mutation("below_minimum", {**record, name: value}, name, r"^Input should be greater")


def _above_maximum(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    bounded = _bounded(model, 1)
    if form == "parquet":  # a Parquet int64 column cannot even hold a value past int64
        bounded = [(name, high) for name, high in bounded if high < INT64_MAX] or bounded
    name, high = draw(st.sampled_from(bounded))
    assume(form != "parquet" or high < INT64_MAX)
    value = draw(st.integers(min_value=high + 1, max_value=high + 10**15))
    return Mutation("above_maximum", {**record, name: value}, name, r"^Input should be less")


def _negative_amount(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    name = draw(st.sampled_from(money_fields(model)))
    value = draw(st.integers(min_value=-(10**15), max_value=-1))
    return Mutation("negative_amount", {**record, name: value}, name, r"^Input should be greater")


def _bad_currency(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    invented = st.from_regex(r"[A-Za-z]{3}", fullmatch=True).filter(
        lambda code: code.upper() not in CURRENCIES
    )
    value = draw(invented | st.sampled_from(["EURO", "E", "€€€", "12 ", "US$"]))
    return Mutation(
        "bad_currency", {**record, "currency": value}, "currency", r"ISO 4217|at (most|least) 3"
    )


def _future_occurred_at(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    ahead = draw(
        st.timedeltas(min_value=dt.timedelta(minutes=6), max_value=dt.timedelta(days=365 * 200))
    )
    value = (NOW + ahead).astimezone(draw(st.sampled_from(OFFSETS)))
    return Mutation(
        "future_occurred_at", {**record, "occurred_at": value}, "occurred_at", "is in the future"
    )


def _naive_occurred_at(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    value = draw(occurred_at()).replace(tzinfo=None).isoformat()
    return Mutation(
        "naive_occurred_at", {**record, "occurred_at": value}, "occurred_at", "needs a UTC offset"
    )


def _unknown_type(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    tags = st.from_regex(r"[a-z][a-z_]{0,30}", fullmatch=True)
    value = draw(tags.filter(lambda tag: tag not in EVENT_TYPES))
    return Mutation("unknown_type", {**record, "type": value}, "type", r"^unknown event type")


def _schema_version(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    version = draw(st.integers(min_value=-5, max_value=100).filter(lambda v: v != SCHEMA_VERSION))
    return Mutation(
        "schema_version", {**record, "schema_version": version}, "schema_version", "not supported"
    )


def _bad_choice(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    name = draw(st.sampled_from([n for n in type_fields(model) if _literal_choices(model, n)]))
    choices = _literal_choices(model, name)
    words = st.text(TEXT_CHARACTERS, min_size=1, max_size=12)
    value = draw(words.filter(lambda v: v not in choices and v.strip() == v))
    return Mutation("bad_choice", {**record, name: value}, name, r"^Input should be")


def _broken_string(
    draw: st.DrawFn, model: type[EventBase], record: dict[str, Any], form: Form
) -> Mutation:
    name = draw(st.sampled_from([n for n in model.model_fields if _string_rule(model, n)]))
    rule = _string_rule(model, name)
    assert rule is not None
    valid = str(draw(field_values(model, name)))
    broken = [valid + "x" * 300]
    if rule.pattern is not None:  # every pattern wants a letter or digit first, none a slash
        broken += [" " + valid, valid + "/"]
    value = draw(st.sampled_from(broken))
    return Mutation("broken_string", {**record, name: value}, name, r"^String should")


def _any(model: type[EventBase]) -> bool:
    return True


#: Each mutation, the file forms it can be written in, and whether a type can undergo it.
MUTATIONS: dict[str, tuple[Mutate, frozenset[str], Callable[[type[EventBase]], bool]]] = {
    "missing_required": (_missing_required, frozenset({"jsonl", "csv", "parquet"}), _any),
    "wrong_type": (_wrong_type, frozenset({"jsonl", "csv"}), _any),
    "unknown_field": (_unknown_field, frozenset({"jsonl", "csv", "parquet"}), _any),
    "below_minimum": (
        _below_minimum,
        frozenset({"jsonl", "csv", "parquet"}),
        lambda m: bool(_bounded(m, 0)),
    ),
    "above_maximum": (
        _above_maximum,
        frozenset({"jsonl", "csv", "parquet"}),
        lambda m: bool(_bounded(m, 1)),
    ),
    "negative_amount": (
        _negative_amount,
        frozenset({"jsonl", "csv", "parquet"}),
        lambda m: bool(money_fields(m)),
    ),
    "bad_currency": (
        _bad_currency,
        frozenset({"jsonl", "csv", "parquet"}),
        lambda m: "currency" in m.model_fields,
    ),
    "future_occurred_at": (_future_occurred_at, frozenset({"jsonl", "csv", "parquet"}), _any),
    "naive_occurred_at": (_naive_occurred_at, frozenset({"jsonl", "csv"}), _any),
    "unknown_type": (_unknown_type, frozenset({"jsonl", "csv", "parquet"}), _any),
    "schema_version": (_schema_version, frozenset({"jsonl", "csv", "parquet"}), _any),
    "bad_choice": (
        _bad_choice,
        frozenset({"jsonl", "csv", "parquet"}),
        lambda m: any(_literal_choices(m, n) for n in type_fields(m)),
    ),
    "broken_string": (_broken_string, frozenset({"jsonl", "csv", "parquet"}), _any),
}


def plain_record(event: EventBase) -> dict[str, Any]:
    """An event's fields as Python objects, absent (``None``) fields left out."""
    return {k: v for k, v in event.model_dump().items() if v is not None}


@st.composite
def mutations(draw: st.DrawFn, form: Form) -> Mutation:
    """A valid event of any type with exactly one thing made wrong that ``form`` can carry."""
    kind = draw(st.sampled_from([k for k, (_, forms, _) in MUTATIONS.items() if form in forms]))
    mutate, _, applies = MUTATIONS[kind]
    model = draw(st.sampled_from([m for m in EVENT_MODELS if applies(m)]))
    return mutate(draw, model, plain_record(draw(events_of(model))), form)
