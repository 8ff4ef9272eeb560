"""Partners' standing queries answered in batches: each as it would be alone, or none kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from openscore.errors import ConsentRequired, NotFound
from openscore.partners.repository import PartnersRepository
from openscore.partners.schemas import PartnerCaller
from openscore.partners.service import partner_caller
from openscore.rights import service as rights
from openscore.rights.repository import RightsRepository
from openscore.rights.schemas import GrantIn, Purpose
from openscore.standing.desk import StandingDesk
from openscore.standing.schemas import StandingOut, StandingQuery
from tests.api.world import MEMBER, OTHER, SCORE, World, build_world


def _partner(world: World, partner_id: str) -> PartnerCaller:
    with world.session() as session:
        return partner_caller(PartnersRepository(session).get(partner_id), key_id="test")


def _logged(world: World) -> list[tuple[str, str, str]]:
    with world.session() as session:
        rows = session.execute(
            text("SELECT member_id, partner_id, answered FROM access_log ORDER BY entry_id")
        )
        return [tuple(row) for row in rows]


def _desk(world: World) -> StandingDesk:
    desk: StandingDesk = world.app.state.service.desk
    return desk


def test_a_batch_answers_each_query_as_it_would_be_answered_alone(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path)
    now = dt.datetime.now(dt.UTC)
    with world.session() as session:
        wanted = GrantIn(
            partner_id="right", purpose=Purpose.lending, expires_at=now + dt.timedelta(days=5)
        )
        other = rights.grant(
            RightsRepository(session), PartnersRepository(session), OTHER, wanted, now
        ).pseudonym
        session.commit()
    right = _partner(world, "right")
    alice = world.pseudonyms["right"]
    queries = [
        StandingQuery(right, alice, Purpose.lending),
        StandingQuery(_partner(world, "no-grant"), alice, Purpose.lending),
        StandingQuery(right, alice, Purpose.tenancy),
        StandingQuery(_partner(world, "expired"), world.pseudonyms["expired"], Purpose.lending),
        StandingQuery(_partner(world, "revoked"), world.pseudonyms["revoked"], Purpose.lending),
        StandingQuery(right, other, Purpose.lending),
        StandingQuery(right, alice, Purpose.lending),
    ]
    outcomes = _desk(world).answer(queries, now)

    kinds = [type(o) for o in outcomes]
    assert kinds == [
        StandingOut,
        NotFound,
        ConsentRequired,
        ConsentRequired,
        ConsentRequired,
        StandingOut,
        StandingOut,
    ]
    first, bob, again = outcomes[0], outcomes[5], outcomes[6]
    assert isinstance(first, StandingOut) and isinstance(bob, StandingOut)
    assert first.standing is not None and first.standing.meets_threshold is (SCORE >= 600)
    # Each answer carries its own attestation.
    assert isinstance(again, StandingOut) and first.attestation and again.attestation
    assert again.attestation != first.attestation
    assert bob.standing is None and bob.attestation is None
    # Exactly the answered queries are logged, in order; the refused ones left nothing.
    assert _logged(world) == [
        (MEMBER, "right", "meets threshold 600"),
        (OTHER, "right", "no score yet"),
        (MEMBER, "right", "meets threshold 600"),
    ]
    assert (_desk(world).batches, _desk(world).answered) == (1, len(queries))


def test_a_failing_store_fails_the_whole_batch_and_keeps_none_of_it(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(engine, tmp_path)
    right = _partner(world, "right")
    queries = [StandingQuery(right, world.pseudonyms["right"], Purpose.lending)] * 3
    written = RightsRepository.log_accesses

    def write_then_fail(self: RightsRepository, entries: list[dict[str, object]]) -> None:
        written(self, entries)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(RightsRepository, "log_accesses", write_then_fail)
    outcomes = _desk(world).answer(queries, dt.datetime.now(dt.UTC))
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert [str(o.__cause__) for o in outcomes] == ["the disk is full"] * len(queries)
    assert len({id(o) for o in outcomes}) == len(queries)  # one exception per waiter
    assert _logged(world) == []
    # The write lock was let go: the next batch is answered and logged.
    monkeypatch.setattr(RightsRepository, "log_accesses", written)
    assert all(
        isinstance(o, StandingOut) for o in _desk(world).answer(queries, dt.datetime.now(dt.UTC))
    )
    assert len(_logged(world)) == len(queries)
