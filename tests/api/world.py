"""A small world for service tests: members, partners in every consent state, staff, a score."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import Role
from openscore.api.app import create_app
from openscore.config import Settings
from openscore.ledger.catalogue import MemberEnrolled
from openscore.ledger.service import ingest_events
from openscore.partners import service as partners
from openscore.partners.repository import PartnersRepository
from openscore.partners.schemas import Scope
from openscore.rights import service as rights
from openscore.rights.repository import RightsRepository
from openscore.rights.schemas import GrantIn, Level, Purpose
from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.records import ScoreRecordIn, ScoreRecords

PASSWORD = "correct horse battery"
MEMBER, OTHER = "m-alice", "m-bob"
SCORE = 713
PARTNER_STATES = ("no_grant", "wrong_purpose", "expired", "revoked", "right")
ENROLLED_AT = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@dataclass
class World:
    app: FastAPI
    client: TestClient
    engine: Engine
    keys: dict[str, str] = field(default_factory=dict)
    pseudonyms: dict[str, str] = field(default_factory=dict)
    grants: dict[str, str] = field(default_factory=dict)
    champion: list[ScorecardArtefact | None] = field(default_factory=lambda: [None])

    def headers(self, caller: str) -> dict[str, str]:
        key = self.keys.get(caller)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def session(self) -> Session:
        return sessionmaker(self.engine)()


def enrol(engine: Engine, *member_ids: str, opt_in: bool = False) -> None:
    events = [
        MemberEnrolled(
            schema_version=1,
            event_id=f"enrol-{member_id}",
            type="member_enrolled",
            member_id=member_id,
            occurred_at=ENROLLED_AT,
            source="platform",
            terms_version="1.0",
            connections_opt_in=opt_in,
        )
        for member_id in member_ids
    ]
    ingest_events(engine, events, origin="tests")


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "rate_limit_sign_in": "1000/minute",
        "rate_limit_partner": "100000/minute",
        "rate_limit_verify": "100000/minute",
    }
    values.update(overrides)
    return Settings(**values)


def build_world(
    engine: Engine, tmp_path: Path, *, seed_score: bool = True, **overrides: Any
) -> World:
    """Alice and Bob enrolled with passwords; a partner per consent state; staff; a score."""
    holder: list[ScorecardArtefact | None] = [None]
    champion: Callable[[], ScorecardArtefact | None] = lambda: holder[0]  # noqa: E731
    app = create_app(settings_for(tmp_path, **overrides), engine=engine, champion=champion)
    world = World(app=app, client=TestClient(app), engine=engine, champion=holder)
    enrol(engine, MEMBER, OTHER)
    now = dt.datetime.now(dt.UTC)
    with sessionmaker(engine).begin() as session:
        keys, people = AccountsRepository(session), PartnersRepository(session)
        repository = RightsRepository(session)
        for member in (MEMBER, OTHER):
            accounts.set_member_password(keys, member, PASSWORD, now)
        for state in PARTNER_STATES:
            _, key = partners.add_partner(
                people, keys, state.replace("_", "-"), state, list(Scope), 600, now
            )
            world.keys[f"partner_{state}"] = key
        for role in (Role.operator, Role.auditor):
            world.keys[role.value] = accounts.issue_api_key(keys, role, role.value, now)[1]
        _grants(world, repository, people, now)
        if seed_score:
            ScoreRecords(session).add(_record(MEMBER, now))
    for member, caller in ((MEMBER, "member"), (OTHER, "other_member")):
        response = world.client.post(
            "/v1/sessions", json={"member_id": member, "password": PASSWORD}
        )
        assert response.status_code == 201, response.text
        world.keys[caller] = response.json()["token"]
    # Callers authenticate by header in these tests; the cookie path has its own test.
    world.client.cookies.clear()
    return world


def _grants(world: World, repository: RightsRepository, people: Any, now: dt.datetime) -> None:
    later = now + dt.timedelta(days=30)

    def give(partner: str, purpose: Purpose, level: Level = Level.answer) -> str:
        wanted = GrantIn(partner_id=partner, purpose=purpose, level=level, expires_at=later)
        out = rights.grant(repository, people, MEMBER, wanted, now)
        world.pseudonyms[partner] = out.pseudonym
        return out.grant_id

    world.grants["right"] = give("right", Purpose.lending)
    give("wrong-purpose", Purpose.tenancy)
    expired = give("expired", Purpose.lending)
    repository.change_grant(expired, expires_at=now - dt.timedelta(seconds=1))
    revoked = give("revoked", Purpose.lending)
    rights.revoke(repository, MEMBER, revoked, now)
    # The partner with no grant knows no pseudonym of Alice; it tries the right partner's.
    world.pseudonyms["no-grant"] = world.pseudonyms["right"]


def _record(member_id: str, now: dt.datetime) -> ScoreRecordIn:
    return ScoreRecordIn(
        member_id=member_id,
        as_of=now - dt.timedelta(days=1),
        score=SCORE,
        band="good",
        model_version="sc-test",
        features_hash="0" * 64,
        subscores={"credit_history": {"points": 120, "scale": 80.0}},
        reasons=[],
        cause="batch:test",
    )
