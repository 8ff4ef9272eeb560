"""Turning untrusted input into catalogue events, and pydantic's errors into (field, message)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from openscore.ledger.canonical import Prepared, prepare_event
from openscore.ledger.catalogue import EVENT_TYPES, Event, EventBase

EVENT_ADAPTER: TypeAdapter[EventBase] = TypeAdapter(Event)

#: What a rejected record counts under when its type cannot be told.
UNKNOWN_TYPE = "(unknown type)"

FieldError = tuple[str | None, str]


@dataclass(slots=True)
class Parsed:
    """A record that is not a valid event: where it was, why, and what it said."""

    line: int | None
    errors: list[FieldError] = field(default_factory=list)
    raw: Any = None
    type_hint: str = UNKNOWN_TYPE
    position: int | None = None


def validation_context(now: dt.datetime) -> dict[str, Any]:
    return {"now": now}


def describe(error: ValidationError) -> list[FieldError]:
    """Pydantic's errors as ``(field, message)`` pairs a person can act on."""
    found: list[FieldError] = []
    for item in error.errors(include_url=False):
        loc = item["loc"]
        kind = item["type"]
        message = str(item["msg"]).removeprefix("Value error, ")
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            found.append(("type", _tag_message(item)))
            continue
        if kind == "json_invalid":
            found.append(
                (None, f"invalid JSON: {_json_problem(item['ctx'].get('error', message))}")
            )
            continue
        if kind == "model_type" or kind == "model_attributes_type":
            found.append((None, "an event must be an object with fields"))
            continue
        # loc = (event_type, field, ...) for errors inside a tagged union member.
        path = (
            [str(part) for part in loc[1:]]
            if loc and loc[0] in EVENT_TYPES
            else list(map(str, loc))
        )
        name = ".".join(path) or None
        if kind == "extra_forbidden" and loc and loc[0] in EVENT_TYPES:
            message = f"unknown field for a {loc[0]} event"
        elif kind == "missing":
            message = "required field is missing"
        elif "input" in item and not isinstance(item["input"], Mapping) and kind != "missing":
            message += f" (got {_short(item['input'])})"
        found.append((name, message))
    return found


_PARSER_POSITION = re.compile(r" at line (\d+) column (\d+)$")


def _json_problem(text: str) -> str:
    """The parser's complaint with its position said as a column of the file's line.

    The parser counts lines within the one JSON document, including the line's own newline,
    so its "line 2 column 0" is the end of the line, not line 2 of the file.
    """
    found = _PARSER_POSITION.search(text)
    if found is None:
        return text
    where = "at its very end" if found.group(1) != "1" else f"at column {found.group(2)}"
    return f"{text[: found.start()]} {where}"


def _tag_message(item: Any) -> str:
    value = item.get("input")
    tag = value.get("type") if isinstance(value, Mapping) else None
    if tag is None:
        return "required field 'type' is missing"
    return f"unknown event type {_short(tag)}; see docs/events.md for the catalogue"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def sniff_type(record: Any) -> str:
    """The event type a rejected record claims, if it claims a known one."""
    if isinstance(record, bytes | str):
        try:
            record = orjson.loads(record)
        except orjson.JSONDecodeError:
            return UNKNOWN_TYPE
    if isinstance(record, Mapping):
        claimed = record.get("type")
        if isinstance(claimed, str) and claimed in EVENT_TYPES:
            return claimed
    return UNKNOWN_TYPE


def parse_mapping(
    record: Any, context: dict[str, Any], line: int | None = None, *, strings: bool = False
) -> Prepared | Parsed:
    """Validate one record given as a mapping (API item, CSV row of strings, Parquet row)."""
    try:
        if strings:
            event = EVENT_ADAPTER.validate_strings(record, context=context)
        else:
            event = EVENT_ADAPTER.validate_python(record, strict=True, context=context)
    except ValidationError as error:
        return Parsed(line, describe(error), record, sniff_type(record))
    return prepare_event(event, line)


def parse_json(data: bytes, context: dict[str, Any], line: int | None = None) -> Prepared | Parsed:
    """Validate one JSON document (a JSONL line) without a separate parse step."""
    try:
        event = EVENT_ADAPTER.validate_json(data, strict=True, context=context)
    except ValidationError as error:
        return Parsed(line, describe(error), data, sniff_type(data))
    return prepare_event(event, line)
