"""``docs/events.md``, rendered from the catalogue so that it cannot drift from it.

Types, fields, constraints and descriptions are read off the models (descriptions are the
attribute docstrings); the examples are ``examples.EXAMPLES``. What cannot be read off a
model - the words for a validator's rule, the grouping of types into dimensions - is spelled
out here, and rendering fails if the catalogue gains a validator or a type this module does
not know, so the documentation is never silently incomplete.

Regenerate with ``python -m openscore.ledger.docs > docs/events.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import io
import json
import sys
import typing
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import annotated_types
from pydantic import AfterValidator, BaseModel, BeforeValidator, StringConstraints
from pydantic.fields import FieldInfo
from pydantic_extra_types.currency_code import ISO4217

from openscore.ledger import catalogue as c
from openscore.ledger.catalogue import (
    ENVELOPE_FIELDS,
    EVENT_MODELS,
    FUTURE_TOLERANCE,
    SCHEMA_VERSION,
    EventBase,
    event_type_name,
    type_fields,
)
from openscore.ledger.examples import EXAMPLES
from openscore.ledger.files import MAX_LINE_BYTES
from openscore.ledger.schemas import MAX_REPORTED_ERRORS
from openscore.ledger.wide import format_csv_value, unwrap_annotation, wide_columns, wide_schema

REGENERATE = "python -m openscore.ledger.docs > docs/events.md"

#: The event types by dimension, in the order the documentation presents them.
GROUPS: tuple[tuple[str, tuple[type[EventBase], ...]], ...] = (
    ("Enrolment", (c.MemberEnrolled, c.MemberLeft)),
    (
        "Identity and stability",
        (c.IdentityVerified, c.ProfileDeclared, c.AddressChanged, c.EmploymentChanged),
    ),
    ("Ability to pay", (c.IncomeReceived, c.PaymentMade)),
    ("Bills", (c.BillIssued, c.BillPaid)),
    (
        "Loans",
        (c.LoanOpened, c.InstallmentDue, c.InstallmentPaid, c.InstallmentMissed, c.LoanDefaulted),
    ),
    ("Rentals and partner feedback", (c.RentalStarted, c.RentalClosed, c.PartnerFeedback)),
    ("Courts", (c.CourtJudgmentEntered, c.CourtJudgmentSatisfied)),
    ("Connections and groups", (c.ConnectionMade, c.ConnectionRemoved, c.GroupJoined, c.GroupLeft)),
    ("Corrections", (c.EventRetracted,)),
)

_TOLERANCE_MINUTES = int(FUTURE_TOLERANCE.total_seconds() // 60)

#: What each validator of the catalogue checks, in words (field validators by function name).
FIELD_RULES: dict[str, str] = {
    "_occurred_at_is_aware_and_past": (
        f"with a UTC offset; at most {_TOLERANCE_MINUTES} minutes in the future"
    ),
    "_check_schema_version": f"must be `{SCHEMA_VERSION}`",
    "_null_means_default": "null is the default",
    "_paid_date": "not after the (UTC) date of `occurred_at`",
    "_not_self": "must differ from `member_id`",
}
MODEL_RULES: dict[str, str] = {
    "_declares_something": "At least one of `education` and `occupation` must be given.",
}

#: Names for the catalogue's recurring string types, by their pattern.
NAMED_STRINGS: tuple[tuple[str, Any, str], ...] = (
    (
        "identifier",
        c.Identifier,
        "an id chosen by the source: a letter or digit, then up to "
        "127 letters, digits or `_ . : -`",
    ),
    (
        "member id",
        c.MemberId,
        "a pseudonymous member id: a letter or digit, then up to 63 letters, digits or `_ . -`",
    ),
    (
        "source id",
        c.SourceId,
        "`platform`, `member`, `partner:<slug>` or `court:<slug>`, the "
        "slug in lower-case letters, digits and `-`",
    ),
)

_SCALAR_NAMES: dict[type, str] = {
    bool: "boolean",
    int: "integer",
    str: "string",
    dt.date: "date",
    dt.datetime: "timestamp",
}


# --- reading the models --------------------------------------------------------------------


def _pattern_in(metadata: Iterable[Any]) -> str | None:
    for item in _flatten(metadata):
        if isinstance(item, StringConstraints) and item.pattern is not None:
            return str(item.pattern)
    return None


def _pattern(alias: Any) -> str | None:
    """The pattern of an ``Annotated[str, StringConstraints(pattern=...)]`` alias."""
    return _pattern_in(typing.get_args(alias)[1:])


def _flatten(metadata: Iterable[Any]) -> list[Any]:
    found: list[Any] = []
    for item in metadata:
        found.extend(_flatten(item.metadata) if isinstance(item, FieldInfo) else [item])
    return found


def _text(docstring: str | None) -> str:
    """A docstring as one Markdown paragraph (reST ``code`` becomes Markdown `code`)."""
    return " ".join(inspect.cleandoc(docstring or "").split()).replace("``", "`")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _type_and_constraints(model: type[BaseModel], name: str) -> tuple[str, list[str]]:
    """The documented type of a field and its constraints in words."""
    info = model.model_fields[name]
    annotation, metadata, _ = unwrap_annotation(info.annotation)
    metadata = _flatten([*metadata, *info.metadata])
    if typing.get_origin(annotation) is Literal:
        choices = ", ".join(f"`{choice}`" for choice in typing.get_args(annotation))
        return "string", [f"one of {choices}"]
    if isinstance(annotation, type) and issubclass(annotation, ISO4217):
        return "currency", ["ISO 4217 code, e.g. `EUR`"]
    if annotation not in _SCALAR_NAMES:
        raise TypeError(f"{model.__name__}.{name}: no documentation for {annotation!r}")
    pattern = _pattern_in(metadata)
    for label, alias, _ in NAMED_STRINGS:
        if pattern is not None and pattern == _pattern(alias):
            return f"[{label}](#values)", []
    return _SCALAR_NAMES[annotation], _constraint_words(model, name, metadata)


_BOUNDS = (
    (annotated_types.Ge, "ge", "≥"),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "≤"),
    (annotated_types.Lt, "lt", "<"),
)


def _constraint_words(model: type[BaseModel], name: str, items: list[Any]) -> list[str]:
    bounds: list[str] = []
    words: list[str] = []
    for item in items:
        bound = [
            f"{sign} {getattr(item, key)}" for kind, key, sign in _BOUNDS if isinstance(item, kind)
        ]
        if bound:
            bounds += bound
        elif isinstance(item, StringConstraints):
            words += _length_words(item)
            words += [f"pattern `{item.pattern}`"] if item.pattern is not None else []
        elif isinstance(item, AfterValidator | BeforeValidator):
            words.append(_rule(FIELD_RULES, item.func.__name__, f"{model.__name__}.{name}"))
        else:
            raise TypeError(f"{model.__name__}.{name}: no documentation for constraint {item!r}")
    return ([" and ".join(bounds)] if bounds else []) + words


def _length_words(item: StringConstraints) -> list[str]:
    if item.min_length is not None and item.max_length is not None:
        return [f"{item.min_length} to {item.max_length} characters"]
    if item.max_length is not None:
        return [f"at most {item.max_length} characters"]
    if item.min_length is not None:
        return [f"at least {item.min_length} characters"]
    return []


def _rule(rules: dict[str, str], function: str, where: str) -> str:
    if function not in rules:
        raise KeyError(f"{where}: validator {function} has no words in openscore.ledger.docs")
    return rules[function]


def _field_rules(model: type[BaseModel], name: str) -> list[str]:
    decorators = model.__pydantic_decorators__.field_validators
    return [
        _rule(FIELD_RULES, function, f"{model.__name__}.{name}")
        for function, decorator in decorators.items()
        if name in decorator.info.fields
    ]


def _presence(model: type[BaseModel], name: str) -> str:
    info = model.model_fields[name]
    if info.is_required():
        return "required"
    _, _, nullable = unwrap_annotation(info.annotation)
    if info.default is None and nullable:
        return "optional"
    return f"optional, default `{json.dumps(info.default)}`"


def _field_row(model: type[BaseModel], name: str, description: str | None = None) -> str:
    kind, constraints = _type_and_constraints(model, name)
    constraints += _field_rules(model, name)
    text = description if description is not None else _text(model.model_fields[name].description)
    cells = [f"`{name}`", kind, _presence(model, name), "; ".join(constraints), text]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


FIELD_HEADER = "| field | type | presence | constraints | meaning |\n|---|---|---|---|---|"


# --- sections --------------------------------------------------------------------------------


def _check_groups() -> None:
    grouped = [model for _, models in GROUPS for model in models]
    missing = [m.__name__ for m in EVENT_MODELS if m not in grouped]
    if missing or len(grouped) != len(set(grouped)):
        raise ValueError(
            f"openscore.ledger.docs.GROUPS must list every type once; missing {missing}"
        )
    absent = [event_type_name(m) for m in EVENT_MODELS if event_type_name(m) not in EXAMPLES]
    if absent:
        raise ValueError(f"openscore.ledger.examples.EXAMPLES has no example of {absent}")


def _intro() -> str:
    return f"""# Event catalogue (schema version {SCHEMA_VERSION})

<!-- Generated from src/openscore/ledger/catalogue.py by `{REGENERATE}`.
     Do not edit by hand: tests/ledger/test_docs.py fails when it and the catalogue differ. -->

The ledger records *events*: facts about a member, each reported by one source at one moment.
Events are never updated or deleted; a source corrects itself by retracting an event and sending
a new one. This page lists every event type the ledger accepts, with every field, its type and
its constraints, and one example per type.

- [The envelope](#the-envelope)
- [Values](#values)
- [Files: JSONL, CSV and Parquet](#files-jsonl-csv-and-parquet)
- [Ingestion rules](#ingestion-rules)
- [Event types](#event-types)"""


def _envelope() -> str:
    rows = []
    for name in ENVELOPE_FIELDS:
        if name == "type":
            rows.append(
                "| `type` | string | required | one of the [event types](#event-types) | "
                "What kind of event this is; it decides which other fields the event has. |"
            )
        else:
            rows.append(_field_row(EventBase, name))
    return "\n".join(
        [
            "## The envelope",
            "",
            _text(EventBase.__doc__) + " Every event has these fields, then its type's own "
            "fields. A field the type does not have is an error, not ignored.",
            "",
            FIELD_HEADER,
            *rows,
        ]
    )


def _values() -> str:
    named = "\n".join(
        f"- **{label}**: {words} (pattern `{_pattern(alias)}`)."
        for label, alias, words in NAMED_STRINGS
    )
    return f"""## Values

- **Money** is an integer number of minor units (cents) with an ISO 4217 currency beside it:
  12.50 EUR is `"amount": 1250, "currency": "EUR"`. Never a decimal, never a float. Amounts
  are never negative; what is owed or paid is said by the event type, not by the sign.
- **Timestamps** (`occurred_at`) are ISO 8601 with a UTC offset, e.g. `2024-05-01T09:30:00Z`
  or `2024-05-01T10:30:00+01:00`, to the microsecond; they are stored in UTC. A timestamp
  without an offset is refused rather than guessed, and so is one more than
  {_TOLERANCE_MINUTES} minutes ahead of the ledger's clock.
- **Dates** (`due_date`, `paid_date`, ...) are `YYYY-MM-DD`, with no time and no zone.
- **Booleans** are JSON `true`/`false`; in CSV `true`/`false`.
{named}"""


def _csv_example(event_types: Sequence[str]) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(wide_columns())
    for event_type in event_types:
        example = EXAMPLES[event_type]
        writer.writerow([format_csv_value(example.get(name)) for name in wide_columns()])
    return text.getvalue().rstrip("\n")


def _files() -> str:
    users: dict[str, list[str]] = {}
    for model in EVENT_MODELS:
        for name in type_fields(model):
            users.setdefault(name, []).append(event_type_name(model))
    schema = wide_schema()
    rows = [
        f"| `{name}` | `{schema.field(name).type}` | "
        + (", ".join(f"`{t}`" for t in users[name]) if name in users else "every event")
        + " |"
        for name in wide_columns()
    ]
    return "\n".join(
        [
            "## Files: JSONL, CSV and Parquet",
            "",
            "`openscore ingest` reads three kinds of file (or directories of them).",
            "",
            "- **JSONL** (`.jsonl`, `.ndjson`): one event per line as a JSON object, exactly as in "
            "the examples below. UTF-8; blank lines are skipped; a line may be at most "
            f"{MAX_LINE_BYTES:,} bytes. A field given as `null` is absent, as an empty CSV "
            "cell or a Parquet null is: an optional field takes its default, a required one "
            "is missing.",
            "- **CSV** (`.csv`) and **Parquet** (`.parquet`) hold events of every type in one "
            "*wide* table: the envelope columns, then one column per field name of the "
            "catalogue. A field name means the same thing, with the same type, in every event "
            "type that has it, so one column serves them all. A row fills the envelope and its "
            "own type's columns and leaves the others empty (CSV) or null (Parquet). Every "
            "envelope column must be present; an unknown or repeated column refuses the file. "
            "CSV is UTF-8 with a header row; an empty cell means the field is absent.",
            "",
            f"The {len(wide_columns())} columns, in order, with their Parquet (Arrow) types:",
            "",
            "| column | Parquet type | used by |",
            "|---|---|---|",
            *rows,
            "",
            "Two of the examples below as CSV:",
            "",
            "```csv",
            _csv_example(["member_enrolled", "payment_made"]),
            "```",
        ]
    )


def _rules() -> str:
    return f"""## Ingestion rules

- **Idempotent on (`source`, `event_id`).** `event_id` is the source's own key. Sending the
  same event again (same key, same content) is counted as a duplicate and stored once, so a
  file can safely be imported twice. The same key with *different* content is a conflict and
  an error, never an overwrite: send a new `event_id`, or retract the earlier event and send a
  corrected one.
- **Retractions.** An `event_retracted` event withdraws one of its source's *own* earlier
  events (`retracted_event_id`), about the same member; the withdrawn event never counts
  again but stays in the ledger for the record. A source cannot retract another source's
  event, nor one the ledger has never seen.
- **Enrolment first.** Every event other than `member_enrolled` must be about a member who is
  enrolled, in the ledger or earlier in the same import; connection events need the peer
  enrolled too.
- **Files are all or nothing.** Each file is imported in one transaction. A file with any
  invalid record writes nothing, and the report lists every error by file, line (row, for
  Parquet) and field: the first {MAX_REPORTED_ERRORS}, then a count of the rest.
- **`--skip-invalid REJECTS.jsonl`** imports the valid records of each file and writes every
  rejected one, with its errors, to `REJECTS.jsonl`. A file that cannot be read past some
  point (a broken CSV header, an unterminated quote, a file that is not Parquet) is still
  refused whole.
- **`--dry-run`** does all the checks, including those that need the ledger (duplicates,
  conflicts, unknown members), and writes nothing."""


def _event_type(model: type[EventBase]) -> str:
    event_type = event_type_name(model)
    lines = [f"### `{event_type}`", "", _text(model.__doc__), "", FIELD_HEADER]
    lines += [_field_row(model, name) for name in type_fields(model)]
    rules = [
        _rule(MODEL_RULES, function, model.__name__)
        for function in model.__pydantic_decorators__.model_validators
    ]
    if rules:
        lines += ["", "Rules: " + " ".join(rules)]
    lines += ["", "```json", json.dumps(EXAMPLES[event_type], ensure_ascii=False), "```"]
    return "\n".join(lines)


def _event_types() -> str:
    index = [
        f"- **{title}**: "
        + ", ".join(f"[`{event_type_name(m)}`](#{event_type_name(m)})" for m in models)
        for title, models in GROUPS
    ]
    parts = [
        "## Event types",
        "",
        "Each type lists only its own fields; every event also has the [envelope](#the-envelope).",
        "",
        *index,
    ]
    for title, models in GROUPS:
        parts += ["", f"## {title}"]
        parts += ["", *"\n\n".join(_event_type(m) for m in models).split("\n")]
    return "\n".join(parts)


def render_catalogue_markdown() -> str:
    """The whole of ``docs/events.md``."""
    _check_groups()
    sections = [_intro(), _envelope(), _values(), _files(), _rules(), _event_types()]
    return "\n\n".join(sections) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_catalogue_markdown())
