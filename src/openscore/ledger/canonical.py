"""The canonical stored form of an event: one definition for every way events arrive.

Whether an event was validated by pydantic or by the vectorised checks, it is stored as the
same ``Prepared`` record: envelope columns, the instant as integer microseconds (UTC), and
the type's own fields as compact JSON (catalogue order, defaults applied, nulls left out).
Its ``content`` is what tells a true duplicate (same key, same content) from a conflict
(same key, other content), so both paths must produce it alike to the byte; a property
test holds them to that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

import orjson

from openscore.db.types import from_micros, to_micros
from openscore.ledger.catalogue import EVENT_TYPES, EventBase, type_fields

#: How many leading fields of ``Prepared`` make the stored row.
ROW_WIDTH = 7


class Prepared(NamedTuple):
    """A valid event ready to append, with what the ledger's own checks need."""

    # The first seven fields are the row the ledger stores, in INSERT_ROW order.
    source: str
    event_id: str
    type: str
    member_id: str
    instant: int
    schema_version: int
    fields: str
    line: int | None
    position: int | None
    peer_member_id: str | None = None
    retracted_event_id: str | None = None
    terms_version: str | None = None
    connections_opt_in: bool = False

    @property
    def occurred_at(self) -> dt.datetime:
        return from_micros(self.instant)

    @property
    def content(self) -> tuple[str, str, int, int, str]:
        """Everything but the key: equal content under one key is a duplicate, else a conflict."""
        return (self.type, self.member_id, self.instant, self.schema_version, self.fields)

    def as_record(self) -> dict[str, Any]:
        """The event as a JSON-ready mapping (for reject files and messages)."""
        record: dict[str, Any] = {
            "schema_version": self.schema_version,
            "event_id": self.event_id,
            "type": self.type,
            "member_id": self.member_id,
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "source": self.source,
        }
        record.update(orjson.loads(self.fields))
        return record


@cache
def fields_of(event_type: str) -> tuple[tuple[str, Any], ...]:
    """The type's own fields with their catalogue defaults (None where there is none)."""
    model = EVENT_TYPES[event_type]
    return tuple(
        (name, None if model.model_fields[name].is_required() else model.model_fields[name].default)
        for name in type_fields(model)
    )


def fields_json(event_type: str, values: Mapping[str, Any]) -> str:
    """The type's fields as stored: catalogue order, defaults applied, nulls left out."""
    present = {}
    for name, default in fields_of(event_type):
        value = values.get(name)
        if value is None:
            value = default
        if value is not None:
            present[name] = value
    return orjson.dumps(present).decode()


def prepare(
    event_type: str,
    values: Mapping[str, Any],
    line: int | None = None,
    position: int | None = None,
) -> Prepared:
    """A ``Prepared`` record from validated values (envelope and fields of one event)."""
    opt_in = values.get("connections_opt_in")
    return Prepared(
        values["source"],
        values["event_id"],
        event_type,
        values["member_id"],
        to_micros(values["occurred_at"]),
        values["schema_version"],
        fields_json(event_type, values),
        line,
        position,
        values.get("peer_member_id"),
        values.get("retracted_event_id"),
        values.get("terms_version"),
        bool(opt_in) if opt_in is not None else False,
    )


def prepare_event(
    event: EventBase, line: int | None = None, position: int | None = None
) -> Prepared:
    """A ``Prepared`` record from a catalogue model."""
    event_type: str = event.type  # type: ignore[attr-defined]
    return prepare(event_type, dict(event), line, position)
