"""Partners post events by pseudonym: validated whole, errors by position, idempotent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from openscore.ledger.repository import events, ingestions
from tests.api.world import MEMBER, World, build_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def _feedback(world: World, event_id: str, **changes: Any) -> dict[str, Any]:
    event = {
        "schema_version": 1,
        "event_id": event_id,
        "type": "partner_feedback",
        "member_id": world.pseudonyms["right"],
        "occurred_at": (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat(),
        "polarity": "positive",
        "topic": "payment",
        "evidence_ref": "ticket-1",
    }
    event.update(changes)
    return event


def _post(world: World, items: list[dict[str, Any]], caller: str = "partner_right") -> Any:
    return world.client.post("/v1/events", json={"events": items}, headers=world.headers(caller))


@pytest.mark.parametrize("size", [1, 3, 250])
def test_a_batch_goes_in_once_and_repeats_are_counted(world: World, size: int) -> None:
    batch = [_feedback(world, f"fb-{i}") for i in range(size)]
    first = _post(world, batch).json()
    again = _post(world, batch).json()
    assert (first["inserted"], first["duplicates"]) == (size, 0)
    assert (again["inserted"], again["duplicates"]) == (0, size)
    assert first["rescoring"] == {
        "rescored": 0,
        "queued": 0,
        "model_version": None,
        "note": "no champion model yet: nothing was rescored",
    }


def test_events_are_stored_under_the_member_and_the_partners_source(world: World) -> None:
    _post(world, [_feedback(world, "fb-1")])
    with sessionmaker(world.engine)() as session:
        row = session.execute(
            select(events.c.member_id, events.c.source, ingestions.c.channel)
            .join(ingestions, ingestions.c.ingestion_id == events.c.ingestion_id)
            .where(events.c.event_id == "fb-1")
        ).one()
    assert tuple(row) == (MEMBER, "partner:right", "api")


def test_every_error_is_reported_by_position_and_nothing_is_written(world: World) -> None:
    batch = [
        _feedback(world, "ok-1"),
        _feedback(world, "bad-1", polarity="lukewarm"),
        _feedback(world, "ok-2"),
        _feedback(world, "bad-2", member_id="psn_unknown"),
        _feedback(world, "bad-3", source="partner:someone-else"),
        {**_feedback(world, "bad-4"), "type": "member_left"},
    ]
    refused = _post(world, batch)
    assert refused.status_code == 422
    where = [(e["index"], e["field"]) for e in refused.json()["errors"]]
    assert (1, "polarity") in where
    assert (3, "member_id") in where
    assert (4, "source") in where
    assert (5, "type") in where
    assert {index for index, _ in where} == {1, 3, 4, 5}
    assert _post(world, [_feedback(world, "ok-1")]).json()["inserted"] == 1


def test_a_conflicting_repeat_is_refused_without_naming_the_member(world: World) -> None:
    _post(world, [_feedback(world, "fb-1")])
    conflict = _post(world, [_feedback(world, "fb-1", polarity="negative")])
    assert conflict.status_code == 422
    assert conflict.json()["errors"][0]["field"] == "event_id"
    assert MEMBER not in conflict.text


def test_a_key_without_the_events_scope_is_refused(engine: Engine, tmp_path: Path) -> None:
    from openscore.accounts.repository import AccountsRepository
    from openscore.partners import service as partners
    from openscore.partners.repository import PartnersRepository
    from openscore.partners.schemas import Scope

    world = build_world(engine, tmp_path)
    now = dt.datetime.now(dt.UTC)
    with sessionmaker(engine).begin() as session:
        _, key = partners.add_partner(
            PartnersRepository(session),
            AccountsRepository(session),
            "reader",
            "Reader",
            [Scope.standing_read],
            600,
            now,
        )
    refused = world.client.post(
        "/v1/events",
        json={"events": [_feedback(world, "x")]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert refused.status_code == 403
    assert "events:write" in refused.json()["detail"]
