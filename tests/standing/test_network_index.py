"""The partial indexes online rescoring reads a member's network through."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from openscore.db.tables import GROUP_TYPES_SQL, NETWORK_TYPES, group_id_sql
from openscore.features.inputs import to_events_arrow
from openscore.features.online import NETWORK_EVENT_TYPES, OnlineFeatures
from openscore.ledger.catalogue import (
    ConnectionMade,
    EventRetracted,
    GroupJoined,
    IdentityVerified,
    LoanDefaulted,
)
from openscore.ledger.service import ingest_events
from openscore.scoring.records import ScoreRecordIn, ScoreRecords
from openscore.standing.repository import StandingRepository, network_query
from openscore.standing.rescoring import Rescorer
from tests.api.world import ENROLLED_AT, enrol


def test_the_index_holds_the_types_the_features_read() -> None:
    assert tuple(sorted(NETWORK_EVENT_TYPES)) == NETWORK_TYPES


def test_network_reads_find_the_rows_through_the_partial_index(sqlite_engine: Engine) -> None:
    enrol(sqlite_engine, "m-a", "m-b")
    with sessionmaker(sqlite_engine)() as session:
        found = StandingRepository(session).network_events_of(["m-a", "m-b", "m-none"])
    assert sorted(found.column("member_id").to_pylist()) == ["m-a", "m-b"]
    query = network_query(["m-a", "m-b"], "sqlite").compile(
        sqlite_engine, compile_kwargs={"literal_binds": True}
    )
    with sqlite_engine.connect() as connection:
        plan = " ".join(
            str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")
        )
    assert "USING INDEX ix_events_network_member" in plan, plan


def _joined(member_id: str, group_id: str) -> GroupJoined:
    return GroupJoined(
        schema_version=1,
        event_id=f"join-{member_id}-{group_id}",
        type="group_joined",
        member_id=member_id,
        occurred_at=ENROLLED_AT + dt.timedelta(days=10),
        source="platform",
        group_id=group_id,
        group_kind="club",
    )


def _tie(member_id: str, peer: str) -> ConnectionMade:
    return ConnectionMade(
        schema_version=1,
        event_id=f"tie-{member_id}-{peer}",
        type="connection_made",
        member_id=member_id,
        occurred_at=ENROLLED_AT + dt.timedelta(days=20),
        source="platform",
        peer_member_id=peer,
        relation="friend",
    )


def _score(member_id: str, score: int, as_of: dt.datetime) -> ScoreRecordIn:
    return ScoreRecordIn(
        member_id=member_id,
        as_of=as_of,
        score=score,
        band="good",
        model_version="sc-test",
        features_hash="0" * 64,
        subscores={},
        reasons=[],
        cause="batch:test",
    )


def test_online_features_follow_group_co_members_as_batch_does(engine: Engine) -> None:
    # m-a and m-b share a club but no tie; m-c is m-a's friend; m-d is in another club.
    enrol(engine, "m-a", "m-b", "m-c", "m-d", opt_in=True)
    events = [_joined("m-a", "g-1"), _joined("m-b", "g-1"), _joined("m-d", "g-2")]
    ingest_events(engine, [*events, _tie("m-a", "m-c"), _tie("m-c", "m-a")], origin="tests")
    as_of = ENROLLED_AT + dt.timedelta(days=400)
    with sessionmaker(engine).begin() as session:
        records = ScoreRecords(session)
        for member_id, score in (("m-a", 700), ("m-b", 610), ("m-c", 580), ("m-d", 900)):
            records.add(_score(member_id, score, ENROLLED_AT + dt.timedelta(days=100)))
    with sessionmaker(engine)() as session:
        repository = StandingRepository(session)
        assert repository.group_members(["g-1"]) == {"m-a", "m-b"}
        found = Rescorer(lambda: None).features(repository, "m-a", as_of)
        assert found is not None
        online, _ = found
        # Everyone's network events: what the batch engines see.
        everyone = ["m-a", "m-b", "m-c", "m-d"]
        network = repository.network_events_of(everyone)
        network = network.filter(pc.not_equal(network.column("member_id"), "m-a"))
        full = OnlineFeatures().compute(
            "m-a",
            repository.member_events("m-a"),
            as_of,
            network=network,
            scores=repository.scores_of(everyone),
        )
    # The club's mean lagged score: m-a's own 700 and m-b's 610.
    assert online["groups_mean_score"] == 655.0
    assert online["connections_mean_score"] == 580.0
    assert online == full


def test_group_reads_find_the_rows_through_the_group_index(engine: Engine) -> None:
    enrol(engine, "m-a", "m-b")
    ingest_events(engine, [_joined("m-a", "g-1"), _joined("m-b", "g-2")], origin="tests")
    with sessionmaker(engine)() as session:
        assert StandingRepository(session).group_members(["g-2", "g-none"]) == {"m-b"}
    expression = group_id_sql(engine.dialect.name)
    query = (
        f"SELECT DISTINCT member_id FROM events WHERE {GROUP_TYPES_SQL} "
        f"AND {expression} IN ('g-1', 'g-2')"
    )
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")
            plan = " ".join(str(row[-1]) for row in rows)
        else:
            # Two rows are cheaper to scan than to seek; forbid the scan to see the index fit.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {query}"))
    assert "ix_events_group" in plan, plan


def test_the_columnar_network_read_equals_the_row_by_row_conversion(engine: Engine) -> None:
    enrol(engine, "m-a", "m-b", opt_in=True)
    enrol(engine, "m-c")
    at = ENROLLED_AT + dt.timedelta(days=30, microseconds=123_457)
    others = [
        LoanDefaulted(schema_version=1, event_id="d-1", type="loan_defaulted", member_id="m-b",
                      occurred_at=at, source="partner:bank", loan_id="L-9",
                      outstanding_amount=125_00, currency="EUR", days_past_due=95),
        IdentityVerified(schema_version=1, event_id="v-1", type="identity_verified",
                         member_id="m-c", occurred_at=at, source="platform",
                         verification_method="document"),
        EventRetracted(schema_version=1, event_id="r-1", type="event_retracted",
                       member_id="m-b", occurred_at=at, source="partner:bank",
                       retracted_event_id="d-1", retraction_reason="keyed in error"),
    ]  # fmt: skip
    events = [_joined("m-a", "g-1"), _tie("m-a", "m-b"), *others]
    ingest_events(engine, events, origin="tests")
    members = ["m-a", "m-b", "m-c"]
    with sessionmaker(engine)() as session:
        repository = StandingRepository(session)
        columnar = repository.network_events_of(members)
        rows = [
            e
            for m in members
            for e in repository.member_events(m)
            if e["type"] in NETWORK_EVENT_TYPES
        ]
    key = [("member_id", "ascending"), ("event_id", "ascending")]
    expected = to_events_arrow(rows).sort_by(key)
    assert columnar.num_rows == len(rows) == 8
    assert columnar.sort_by(key).equals(expected)
