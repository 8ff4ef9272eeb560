"""A partner's file of events, read for the API's batch: JSON Lines or a JSON array.

Each event remembers the line it came from, so that the batch's errors (by position, as the
API reports them) are shown to the partner by line of their own file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from openscore.errors import DomainError

#: The API's batch limit.
MAX_EVENTS = 10_000


@dataclass(frozen=True, slots=True)
class LineError:
    """One problem: the file's line (None for the whole file), the field and what is wrong."""

    line: int | None
    field: str | None
    message: str


class EventFileError(ValueError):
    """The file cannot be read as events; nothing was sent."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class EventFile:
    events: list[dict[str, Any]]
    lines: list[int]

    def line_errors(self, problem: DomainError) -> list[LineError]:
        """The batch's errors (by position) as errors by line of the file."""
        found = []
        for item in problem.errors or []:
            index = item.get("index")
            line = self.lines[index] if isinstance(index, int) and index < len(self.lines) else None
            found.append(LineError(line, item.get("field"), str(item.get("message"))))
        return found


def _json_lines(text: str) -> EventFile:
    events: list[dict[str, Any]] = []
    lines: list[int] = []
    errors: list[LineError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            errors.append(LineError(number, None, f"not valid JSON: {error}"))
            continue
        if not isinstance(value, dict):
            errors.append(LineError(number, None, "each line must be one JSON object (an event)"))
            continue
        events.append(value)
        lines.append(number)
    if errors:
        raise EventFileError(errors)
    return EventFile(events, lines)


def _json_array(text: str) -> EventFile:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise EventFileError([LineError(None, None, f"not valid JSON: {error}")]) from None
    if isinstance(value, dict) and isinstance(value.get("events"), list):
        value = value["events"]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        message = 'expected a JSON array of events (or {"events": [...]})'
        raise EventFileError([LineError(None, None, message)])
    # A pretty-printed array has no one line per event: point at the event's position.
    return EventFile(value, list(range(1, len(value) + 1)))


def read_event_file(name: str, data: bytes) -> EventFile:
    """The events of an uploaded file; JSON when it starts with ``[`` or ``{"events"``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise EventFileError(
            [LineError(None, None, f"{name} is not UTF-8 text: {error}")]
        ) from None
    stripped = text.lstrip()
    if not stripped:
        raise EventFileError([LineError(None, None, f"{name} is empty")])
    looks_like_array = stripped.startswith("[") or (
        stripped.startswith("{")
        and not name.endswith((".jsonl", ".ndjson"))
        and "\n{" not in stripped
    )
    found = _json_array(text) if looks_like_array else _json_lines(text)
    if not found.events:
        raise EventFileError([LineError(None, None, f"{name} holds no events")])
    if len(found.events) > MAX_EVENTS:
        message = f"{len(found.events)} events; at most {MAX_EVENTS} per file"
        raise EventFileError([LineError(None, None, message)])
    return found
