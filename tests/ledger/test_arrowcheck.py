"""The vectorised checks agree with the catalogue: they never accept what pydantic refuses,
and the records they prepare are the very records pydantic's path prepares."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings

from openscore.ledger.arrowcheck import accepted, plan_for
from openscore.ledger.canonical import prepare_event
from openscore.ledger.catalogue import EVENT_TYPES, EventBase
from openscore.ledger.files import json_lines_table, read_events
from openscore.ledger.validation import EVENT_ADAPTER
from openscore.ledger.wide import event_to_wide, wide_schema
from openscore.ledger.writers import write_events
from tests.ledger.strategies import NOW, Mutation, event_lists, mutations

PROFILE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_every_event_type_is_vectorised() -> None:
    assert [t for t in EVENT_TYPES if plan_for(t) is None] == []


@pytest.mark.parametrize("kind", ["parquet", "jsonl"])
@PROFILE
@given(events=event_lists(max_size=20))
def test_fast_path_prepares_what_pydantic_prepares(kind: str, events: list[EventBase]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"events.{kind}"
        write_events([event_to_wide(e) for e in events], path)
        chunks = list(read_events(path, now=NOW))

    got = [p for chunk in chunks for p in chunk.events]
    assert [r.errors for chunk in chunks for r in chunk.rejected] == []
    assert got == [prepare_event(e, line=n) for n, e in enumerate(events, start=1)]


@PROFILE
@given(events=event_lists(max_size=20))
def test_valid_events_take_the_fast_path(events: list[EventBase]) -> None:
    table = pa.Table.from_pylist([event_to_wide(e) for e in events], schema=wide_schema())
    for event_type in {e.type for e in events}:  # type: ignore[attr-defined]
        rows = table.filter(pa.compute.equal(table["type"], event_type))
        assert accepted(rows, event_type, NOW).to_pylist() == [True] * rows.num_rows


def _claimed_type(record: dict[str, Any]) -> str:
    claimed = record.get("type")
    assume(isinstance(claimed, str) and claimed in EVENT_TYPES)
    return str(claimed)


def _refused_by_pydantic(record: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        EVENT_ADAPTER.validate_python(record, strict=True, context={"now": NOW})


@PROFILE
@given(mutation=mutations("parquet"))
def test_a_mutated_parquet_row_is_never_accepted(mutation: Mutation) -> None:
    event_type = _claimed_type(mutation.record)
    row = dict.fromkeys(wide_schema().names) | mutation.record
    extra = [k for k in mutation.record if k not in wide_schema().names]
    try:
        table = pa.Table.from_pylist([row], schema=wide_schema())
    except (pa.ArrowException, OverflowError):
        return  # a value Parquet cannot even hold never reaches the checks
    if extra:
        table = table.append_column(extra[0], pa.array([mutation.record[extra[0]]]))
    _refused_by_pydantic(mutation.record)
    assert accepted(table, event_type, NOW).to_pylist() == [False]


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value))


@PROFILE
@given(mutation=mutations("jsonl"))
def test_a_mutated_json_line_is_never_accepted(mutation: Mutation) -> None:
    event_type = _claimed_type(mutation.record)
    line = orjson.dumps(mutation.record, default=_json_default)
    table = json_lines_table([line])
    if table is None:
        return  # Arrow could not read it strictly: pydantic takes the line
    assert accepted(table, event_type, NOW).to_pylist() == [False]
