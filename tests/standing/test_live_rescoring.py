"""A new event about a member rescores that member at once, and says why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import sessionmaker

from openscore.db.tables import EventRecord
from openscore.ledger.files import discover
from openscore.ledger.imports import import_file
from openscore.partners.repository import PartnersRepository
from openscore.rights import service as rights
from openscore.rights.repository import RightsRepository, access_log
from openscore.rights.schemas import GrantIn, Purpose
from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.member import member_events
from openscore.scoring.records import ScoreRecords
from openscore.standing.backlog import SYNC_MEMBERS
from openscore.standing.repository import StandingRepository
from tests.api.world import World, build_world

pytestmark = pytest.mark.slow


def _ledger_city(engine: Engine, city: Path) -> None:
    for path in discover([city / "events"]):
        import_file(engine, path)


def _borrower(engine: Engine) -> tuple[str, dict[str, Any]]:
    """A member with a loan still running and no missed installment: whose it is and the loan."""
    with sessionmaker(engine)() as session:
        rows = session.execute(
            select(EventRecord.member_id, EventRecord.fields, EventRecord.occurred_at)
            .where(EventRecord.type == "loan_opened")
            .order_by(EventRecord.occurred_at.desc())
        ).all()
        for member_id, fields, _ in rows:
            kinds = set(member_events(engine, member_id).column("type").to_pylist())
            if not {"installment_missed", "loan_defaulted", "member_left"} & kinds:
                return member_id, orjson.loads(fields)
    raise AssertionError("the city has no borrower in good standing")


def test_a_missed_installment_lowers_the_score_and_names_the_event(
    engine: Engine, tmp_path: Path, recent_city: Path, champion: ScorecardArtefact
) -> None:
    world = build_world(engine, tmp_path, seed_score=False)
    world.champion[0] = champion
    _ledger_city(engine, recent_city)
    member_id, loan = _borrower(engine)
    pseudonym = _consent(world, member_id)
    baseline = _post(world, pseudonym, "income_received", amount=1, occurred_days_ago=1)
    assert baseline["rescoring"] == {
        "rescored": 1,
        "queued": 0,
        "model_version": champion.model_id,
        "note": None,
    }
    with sessionmaker(engine)() as session:
        before = ScoreRecords(session).latest(member_id)
    assert before is not None
    due, missed = _missed(loan, pseudonym)
    answer = world.client.post(
        "/v1/events", json={"events": [due, missed]}, headers=world.headers("partner_right")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["inserted"] == 2
    with sessionmaker(engine)() as session:
        history = ScoreRecords(session).history(member_id)
    after = history[0]
    assert len(history) == 2
    assert after.cause == f"event:partner:right/{missed['event_id']}"
    assert after.score < before.score
    # The ledger counts an installment as missed from its due event with no payment after it;
    # that event is what the reasons' evidence points at.
    behind = {r.feature: [e["event_id"] for e in r.evidence] for r in after.reasons}
    assert [f for f, ids in behind.items() if due["event_id"] in ids] != []


def test_a_large_batch_is_answered_at_once_and_rescored_after_the_commit(
    engine: Engine, tmp_path: Path, recent_city: Path, champion: ScorecardArtefact
) -> None:
    world = build_world(engine, tmp_path, seed_score=False)
    world.champion[0] = champion
    _ledger_city(engine, recent_city)
    with sessionmaker(engine)() as session:
        chosen = (
            session.execute(
                select(EventRecord.member_id)
                .where(EventRecord.type == "member_enrolled")
                .order_by(EventRecord.member_id)
                .limit(SYNC_MEMBERS + 4)
            )
            .scalars()
            .all()
        )
    names = {_consent(world, member_id): member_id for member_id in chosen}
    occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    batch = [
        {
            "schema_version": 1,
            "event_id": f"pay-{n}",
            "type": "payment_made",
            "member_id": name,
            "occurred_at": occurred,
            "amount": 1_250,
            "currency": "EUR",
            "merchant_category": "groceries",
            "channel": "card",
        }
        for n, name in enumerate(names)
    ]
    backlog = world.app.state.service.backlog
    refused = world.client.post(
        "/v1/events",
        json={"events": [*batch, {**batch[0], "event_id": "bad", "amount": -1}]},
        headers=world.headers("partner_right"),
    )
    assert refused.status_code == 422
    assert backlog.pending() == 0  # nothing committed, no one queued

    answer = world.client.post(
        "/v1/events", json={"events": batch}, headers=world.headers("partner_right")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["rescoring"] == {
        "rescored": 0,
        "queued": len(names),
        "model_version": champion.model_id,
        "note": f"{len(names)} members are being rescored in the background",
    }
    assert backlog.wait(timeout=120)
    assert backlog.failed == 0
    with sessionmaker(engine)() as session:
        records = ScoreRecords(session)
        causes = {names[n]: records.latest(names[n]) for n in names}
    for n, (name, member_id) in enumerate(names.items()):
        record = causes[member_id]
        assert record is not None, name
        assert record.cause == f"event:partner:right/pay-{n}"
        assert record.model_version == champion.model_id


def _consent(world: World, member_id: str) -> str:
    now = dt.datetime.now(dt.UTC)
    with sessionmaker(world.engine).begin() as session:
        wanted = GrantIn(
            partner_id="right",
            purpose=Purpose.lending,
            expires_at=now + dt.timedelta(days=30),
        )
        out = rights.grant(
            RightsRepository(session), PartnersRepository(session), member_id, wanted, now
        )
    return out.pseudonym


def _post(world: World, pseudonym: str, kind: str, **fields: Any) -> dict[str, Any]:
    days = fields.pop("occurred_days_ago")
    occurred = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    event = {
        "schema_version": 1,
        "event_id": f"{kind}-{occurred.timestamp()}",
        "type": kind,
        "member_id": pseudonym,
        "occurred_at": occurred.isoformat(),
        "currency": "EUR",
        "income_kind": "other",
        **fields,
    }
    response = world.client.post(
        "/v1/events", json={"events": [event]}, headers=world.headers("partner_right")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _missed(loan: dict[str, Any], pseudonym: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The lender's two reports of a missed installment: it fell due, then it was missed."""
    now = dt.datetime.now(dt.UTC)
    due_on = now - dt.timedelta(days=40)
    common = {
        "schema_version": 1,
        "member_id": pseudonym,
        "loan_id": loan["loan_id"],
        "installment_no": 99,
        "amount": 10_000,
        "currency": loan.get("currency", "EUR"),
        "due_date": due_on.date().isoformat(),
    }
    due = {**common, "event_id": "due-99", "type": "installment_due"}
    due["occurred_at"] = due_on.isoformat()
    missed = {**common, "event_id": "missed-99", "type": "installment_missed"}
    missed |= {"occurred_at": (now - dt.timedelta(days=10)).isoformat(), "days_past_due": 30}
    return due, missed


def test_members_own_reads_never_write_the_access_log(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path)
    headers = world.headers("member")

    def entries() -> int:
        with sessionmaker(engine)() as session:
            return int(session.execute(select(func.count()).select_from(access_log)).scalar_one())

    assert entries() == 0
    for path in ("/v1/me/score", "/v1/me/score/history", "/v1/me/access-log", "/v1/me/consents"):
        assert world.client.get(path, headers=headers).status_code == 200
    assert entries() == 0
    pseudonym = world.pseudonyms["right"]
    read = world.client.get(
        f"/v1/standing/{pseudonym}?purpose=lending", headers=world.headers("partner_right")
    )
    assert read.status_code == 200
    log = world.client.get("/v1/me/access-log", headers=headers).json()["entries"]
    assert [(e["partner_id"], e["answered"], e["grant_id"]) for e in log] == [
        ("right", "meets threshold 600", world.grants["right"])
    ]
    assert entries() == 1


def test_what_if_scores_the_members_features_with_a_change(
    engine: Engine, tmp_path: Path, champion: ScorecardArtefact
) -> None:
    world = build_world(engine, tmp_path)
    world.champion[0] = champion
    actionable = next(f.name for f in champion.features if f.actionable and len(f.points) > 1)
    fixed = next((f.name for f in champion.features if not f.actionable), None)
    headers = world.headers("member")
    answer = world.client.post(
        "/v1/me/what-if", json={"changes": {actionable: 1.0}}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_version"] == champion.model_id
    assert [c["feature"] for c in body["changes"]] == [actionable]
    assert body["score_after"] - body["score_now"] == body["changes"][0]["points"]
    if fixed is not None:
        refused = world.client.post(
            "/v1/me/what-if", json={"changes": {fixed: 1.0}}, headers=headers
        )
        assert refused.status_code == 422
        assert "not actionable" in refused.json()["detail"]


def test_the_columnar_read_of_a_members_events_equals_the_row_by_row_one(
    engine: Engine, recent_city: Path
) -> None:
    """Every member of the city, every type of event: what rescoring reads column by column
    is what converting the wide rows one by one gives."""
    _ledger_city(engine, recent_city)
    key = [("event_id", "ascending"), ("source", "ascending")]
    with sessionmaker(engine)() as session:
        repository = StandingRepository(session)
        member_ids = session.scalars(select(EventRecord.member_id).distinct()).all()
        kinds: set[str] = set()
        for member_id in member_ids:
            row_by_row = member_events(engine, member_id)
            kinds |= set(row_by_row.column("type").to_pylist())
            columnar = repository.member_events_table(member_id)
            assert columnar.sort_by(key).equals(row_by_row.sort_by(key)), member_id
    assert len(member_ids) >= 300
    assert {"installment_paid", "bill_paid", "rental_closed", "loan_opened"} <= kinds
