"""The partial indexes online rescoring reads a member's network through."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, Select
from sqlalchemy.orm import sessionmaker

from openscore.db.tables import GROUP_TYPES_SQL, NETWORK_TYPES, group_id_sql
from openscore.features.online import NETWORK_EVENT_TYPES, OnlineFeatures
from openscore.ledger.catalogue import (
    ConnectionRemoved,
    EventRetracted,
    IdentityVerified,
    LoanDefaulted,
)
from openscore.ledger.service import ingest_events
from openscore.scoring.member import member_events
from openscore.scoring.records import ScoreRecordIn, ScoreRecords
from openscore.standing.repository import StandingRepository, network_query, ring_condition
from openscore.standing.rescoring import Rescorer
from tests.api.world import ENROLLED_AT, enrol
from tests.standing.ledger import joined, tie


def test_the_index_holds_the_types_the_features_read() -> None:
    assert tuple(sorted(NETWORK_EVENT_TYPES)) == NETWORK_TYPES


def test_network_reads_find_the_rows_through_the_partial_index(sqlite_engine: Engine) -> None:
    enrol(sqlite_engine, "m-a", "m-b")
    with sessionmaker(sqlite_engine)() as session:
        found = StandingRepository(session).network_events_of(["m-a", "m-b", "m-none"])
    assert sorted(found.column("member_id").to_pylist()) == ["m-a", "m-b"]
    plan = _sqlite_plan(sqlite_engine, network_query(["m-a", "m-b"], "sqlite"))
    assert "USING COVERING INDEX ix_events_network_member" in plan, plan


def _sqlite_plan(sqlite_engine: Engine, query: Select[Any]) -> str:
    """SQLite's query plan for ``query``, its values written in."""
    sql = query.compile(sqlite_engine, compile_kwargs={"literal_binds": True})
    with sqlite_engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
        return " ".join(str(row[-1]) for row in rows)


def _untie(member_id: str, peer: str) -> ConnectionRemoved:
    return ConnectionRemoved(
        schema_version=1,
        event_id=f"untie-{member_id}-{peer}",
        type="connection_removed",
        member_id=member_id,
        occurred_at=ENROLLED_AT + dt.timedelta(days=40),
        source="platform",
        peer_member_id=peer,
    )


def _default(member_id: str) -> LoanDefaulted:
    return LoanDefaulted(
        schema_version=1,
        event_id=f"default-{member_id}",
        type="loan_defaulted",
        member_id=member_id,
        occurred_at=ENROLLED_AT + dt.timedelta(days=300),
        source="partner:bank",
        loan_id=f"L-{member_id}",
        outstanding_amount=500_00,
        currency="EUR",
        days_past_due=95,
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
    events = [joined("m-a", "g-1"), joined("m-b", "g-1"), joined("m-d", "g-2")]
    ingest_events(engine, [*events, tie("m-a", "m-c"), tie("m-c", "m-a")], origin="tests")
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
            member_events(engine, "m-a"),
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
    ingest_events(engine, [joined("m-a", "g-1"), joined("m-b", "g-2")], origin="tests")
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
    events = [joined("m-a", "g-1"), tie("m-a", "m-b"), *others]
    ingest_events(engine, events, origin="tests")
    members = ["m-a", "m-b", "m-c"]
    with sessionmaker(engine)() as session:
        repository = StandingRepository(session)
        columnar = repository.network_events_of(members)
    everything = pa.concat_tables(member_events(engine, m) for m in members)
    wanted = pc.is_in(everything.column("type"), pa.array(sorted(NETWORK_EVENT_TYPES)))
    key = [("member_id", "ascending"), ("event_id", "ascending")]
    expected = everything.filter(wanted).sort_by(key)
    assert columnar.num_rows == expected.num_rows == 8
    assert columnar.sort_by(key).equals(expected)


def test_the_edge_of_a_neighbourhood_is_read_narrowly_and_changes_no_feature(
    engine: Engine,
) -> None:
    # A chain a - b - c, then two members three ties from a: d, who removed the tie c made
    # to them, and x, who defaulted and is also in a's club. Past them, e and y (four ties
    # away) and f (a club mate of a with a friend of its own, g) are no part of a's features.
    enrol(engine, "m-a", "m-b", "m-c", "m-d", "m-x", "m-e", "m-y", "m-f", "m-g", opt_in=True)
    pairs = [("m-a", "m-b"), ("m-b", "m-c"), ("m-c", "m-d"), ("m-c", "m-x")]
    pairs += [("m-d", "m-e"), ("m-x", "m-y"), ("m-f", "m-g")]
    ties = [tie(one, other) for one, other in pairs] + [tie(b, a) for a, b in pairs]
    clubs = [joined(m, "g-1") for m in ("m-a", "m-x", "m-f")]
    clubs += [joined("m-g", "g-2"), joined("m-b", "g-2")]  # b, a's friend, in another club
    defaults = [_default(m) for m in ("m-x", "m-e", "m-y", "m-g")]
    ingest_events(engine, [*ties, _untie("m-d", "m-c"), *clubs, *defaults], origin="tests")
    as_of = ENROLLED_AT + dt.timedelta(days=400)
    everyone = ["m-a", "m-b", "m-c", "m-d", "m-x", "m-e", "m-y", "m-f", "m-g"]
    with sessionmaker(engine).begin() as session:
        records = ScoreRecords(session)
        for number, member_id in enumerate(everyone):
            # The one that counts (the latest 30 days before as_of or earlier), an older one
            # and one too recent to count: only the first may reach the features.
            records.add(_score(member_id, 500 + 25 * number, ENROLLED_AT + dt.timedelta(days=100)))
            records.add(_score(member_id, 300, ENROLLED_AT + dt.timedelta(days=60)))
            records.add(_score(member_id, 900, as_of - dt.timedelta(days=29)))
    with sessionmaker(engine)() as session:
        repository = StandingRepository(session)
        own = member_events(engine, "m-a")
        read = repository.network_events("m-a", own)
        found = Rescorer(lambda: None).features(repository, "m-a", as_of)
        network = repository.network_events_of(everyone)
        network = network.filter(pc.not_equal(network.column("member_id"), "m-a"))
        full = OnlineFeatures().compute(
            "m-a", own, as_of, network=network, scores=repository.scores_of(everyone)
        )
    assert found is not None and full is not None
    online, _ = found
    rows = {(e["member_id"], e["event_id"]) for e in read.to_pylist()}
    # The edge: facts, ties inward (d's removal among them) and a club mate's spells ...
    assert {("m-d", "untie-m-d-m-c"), ("m-d", "tie-m-d-m-c"), ("m-x", "join-m-x-g-1")} <= rows
    assert {("m-x", "default-m-x"), ("m-f", "join-m-f-g-1"), ("m-f", "enrol-m-f")} <= rows
    # ... but not their ties outward, nor anyone past them, nor a friend's other club.
    assert not rows & {("m-d", "tie-m-d-m-e"), ("m-x", "tie-m-x-m-y"), ("m-f", "tie-m-f-m-g")}
    assert ("m-b", "join-m-b-g-2") not in rows and ("m-b", "tie-m-b-m-c") in rows
    assert not {member for member, _ in rows} & {"m-e", "m-y", "m-g"}
    assert online["defaulter_exposure"] is not None and online["defaulter_exposure"] > 0
    with sessionmaker(engine)() as session:
        lagged = StandingRepository(session).scores_of(everyone, as_of)
    assert sorted((s["member_id"], s["score"]) for s in lagged) == sorted(
        (member_id, 500.0 + 25 * number) for number, member_id in enumerate(everyone)
    )
    assert online["groups_mean_score"] is not None
    assert online.keys() == full.keys()
    for name, value in full.items():
        got = online[name]
        if value is None or got is None or isinstance(value, int):
            assert got == value, name
        else:
            assert math.isclose(got, value, rel_tol=1e-12), name


def test_the_edge_of_a_neighbourhood_is_read_through_the_partial_index(
    sqlite_engine: Engine,
) -> None:
    enrol(sqlite_engine, "m-a", "m-b", "m-c", "m-d", "m-e", opt_in=True)
    pairs = [("m-a", "m-b"), ("m-b", "m-c"), ("m-c", "m-d"), ("m-d", "m-c"), ("m-d", "m-e")]
    ingest_events(sqlite_engine, [tie(a, b) for a, b in pairs], origin="tests")
    with sessionmaker(sqlite_engine)() as session:
        own = member_events(sqlite_engine, "m-a")
        read = StandingRepository(session).network_events("m-a", own)
    # d, three ties away, is read without its tie to e.
    assert sorted(read.column("event_id").to_pylist()) == [
        "enrol-m-b", "enrol-m-c", "enrol-m-d", "tie-m-b-m-c", "tie-m-c-m-d", "tie-m-d-m-c"
    ]  # fmt: skip
    edge = ring_condition("sqlite", ["m-d"], inside=["m-a", "m-b", "m-c"])
    plan = _sqlite_plan(sqlite_engine, network_query(["m-d"], "sqlite", edge))
    assert "USING COVERING INDEX ix_events_network_member" in plan, plan


def test_the_largest_network_event_fits_the_covering_index(engine: Engine) -> None:
    """PostgreSQL refuses index entries over about 2.7 kB, and the network index holds the
    fields of every network event: the longest the catalogue allows must still go in."""
    longest_id = "r" + "1" * 127
    member = "m" + "2" * 63
    source = "partner:" + "b" * 63
    enrol(engine, member)
    default = LoanDefaulted(
        schema_version=1,
        event_id=longest_id,
        type="loan_defaulted",
        member_id=member,
        occurred_at=ENROLLED_AT + dt.timedelta(days=5),
        source=source,
        loan_id="L" * 128,
        outstanding_amount=2**63 - 1,
        currency="EUR",
        days_past_due=3650,
    )
    # 200 characters that JSON writes as six bytes each.
    retraction = EventRetracted(
        schema_version=1,
        event_id="x" + "3" * 127,
        type="event_retracted",
        member_id=member,
        occurred_at=ENROLLED_AT + dt.timedelta(days=6),
        source=source,
        retracted_event_id=longest_id,
        retraction_reason="\x01" * 200,
    )
    report = ingest_events(engine, [default, retraction], origin="tests")
    assert report.inserted == 2
    with engine.connect() as connection:
        longest = connection.exec_driver_sql(
            "SELECT max(length(fields)) FROM events WHERE type = 'event_retracted'"
        ).scalar_one()
    assert longest > 1_300  # the escaped reason and the longest id were stored as sent
    with sessionmaker(engine)() as session:
        found = StandingRepository(session).network_events_of([member])
    assert sorted(found.column("type").to_pylist()) == [
        "event_retracted", "loan_defaulted", "member_enrolled"
    ]  # fmt: skip
