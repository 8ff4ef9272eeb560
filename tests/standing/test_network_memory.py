"""Members' network events remembered between rescorings, and the tokens that vouch for them."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openscore.ledger.canonical import prepare_event
from openscore.ledger.catalogue import EventBase, PaymentMade
from openscore.ledger.files import Chunk
from openscore.ledger.repository import LedgerRepository
from openscore.ledger.service import Ingestion, ingest_events
from openscore.scoring.member import member_events
from openscore.standing.network import NETWORK_COLUMNS, NetworkMemory, widen
from openscore.standing.repository import StandingRepository
from tests.api.world import ENROLLED_AT, enrol
from tests.standing.ledger import joined, tie

MEMBERS = ["m-a", "m-b", "m-c", "m-d", "m-e", "m-f"]


def _city(engine: Engine) -> None:
    # A chain a - b - c - d - e, f in a's club only.
    enrol(engine, *MEMBERS, opt_in=True)
    pairs = [("m-a", "m-b"), ("m-b", "m-c"), ("m-c", "m-d"), ("m-d", "m-e")]
    ties = [tie(one, other) for one, other in pairs] + [tie(b, a) for a, b in pairs]
    ingest_events(engine, [*ties, joined("m-a", "g-1"), joined("m-f", "g-1")], origin="tests")


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    return sorted(tuple(row.values()) for row in table.to_pylist())


def _network(engine: Engine, member_id: str, memory: NetworkMemory | None) -> pa.Table:
    with sessionmaker(engine)() as session:
        own = member_events(engine, member_id)
        return StandingRepository(session).network_events(member_id, own, memory)


def _tokens(engine: Engine) -> dict[str, int]:
    with sessionmaker(engine)() as session:
        return StandingRepository(session).network_versions(MEMBERS)


def _payment(member_id: str) -> PaymentMade:
    return PaymentMade(
        schema_version=1,
        event_id=f"pay-{member_id}",
        type="payment_made",
        member_id=member_id,
        occurred_at=ENROLLED_AT + dt.timedelta(days=30),
        source="platform",
        amount=1_000,
        currency="EUR",
        merchant_category="groceries",
        channel="card",
    )


def test_a_members_token_changes_with_their_network_events_only(engine: Engine) -> None:
    _city(engine)
    before = _tokens(engine)
    assert 0 not in before.values()  # every member's enrolment set one
    ingest_events(engine, [_payment("m-c")], origin="tests")
    assert _tokens(engine) == before
    ingest_events(engine, [tie("m-c", "m-f")], origin="tests")
    after = _tokens(engine)
    assert after["m-c"] != before["m-c"]
    assert {m: t for m, t in after.items() if m != "m-c"} == {
        m: t for m, t in before.items() if m != "m-c"
    }


def test_remembered_reads_give_the_rows_of_a_read_from_the_store(engine: Engine) -> None:
    _city(engine)
    memory = NetworkMemory()
    for member_id in MEMBERS:
        direct = _network(engine, member_id, None)
        assert _rows(_network(engine, member_id, memory)) == _rows(direct), member_id
        assert _rows(_network(engine, member_id, memory)) == _rows(direct), member_id
    # Every member read once, and then only remembered.
    assert memory.misses == len(MEMBERS)
    assert memory.hits > memory.misses


def test_a_new_network_event_is_read_at_once(engine: Engine) -> None:
    _city(engine)
    memory = NetworkMemory()
    first = _network(engine, "m-a", memory)
    assert "tie-m-c-m-f" not in first.column("event_id").to_pylist()
    # m-c (two ties from a) befriends f: a's walk now reaches f through c.
    ingest_events(engine, [tie("m-c", "m-f")], origin="tests")
    misses = memory.misses
    again = _network(engine, "m-a", memory)
    assert "tie-m-c-m-f" in again.column("event_id").to_pylist()
    assert _rows(again) == _rows(_network(engine, "m-a", None))
    assert memory.misses == misses + 1  # m-c alone was read again


def _append(session: Session, events: list[EventBase]) -> None:
    ingestion = Ingestion(LedgerRepository(session.connection()), channel="api", origin="tests")
    chunk = Chunk()
    chunk.events.extend(prepare_event(e, position=i) for i, e in enumerate(events))
    ingestion.feed(chunk)
    ingestion.finish()


def test_rows_read_in_a_transaction_that_rolls_back_are_never_taken_for_the_stores(
    engine: Engine,
) -> None:
    _city(engine)
    memory = NetworkMemory()
    _network(engine, "m-a", memory)
    with sessionmaker(engine)() as session:
        # A rescoring inside an ingestion that then fails: it sees, and remembers, b's
        # uncommitted tie.
        _append(session, [tie("m-b", "m-f")])
        own = member_events(engine, "m-a")
        seen = StandingRepository(session).network_events("m-a", own, memory)
        assert "tie-m-b-m-f" in seen.column("event_id").to_pylist()
        session.rollback()
    after = _network(engine, "m-a", memory)
    assert "tie-m-b-m-f" not in after.column("event_id").to_pylist()
    assert _rows(after) == _rows(_network(engine, "m-a", None))
    # b's next committed change gets a token of its own, not the rolled-back one (which a
    # counter would have given again, passing the remembered rows for the store's).
    _network(engine, "m-a", memory)
    with sessionmaker(engine)() as session:
        _append(session, [tie("m-b", "m-f")])
        StandingRepository(session).network_events("m-a", member_events(engine, "m-a"), memory)
        session.rollback()
    ingest_events(engine, [tie("m-b", "m-e")], origin="tests")
    final = _network(engine, "m-a", memory)
    assert "tie-m-b-m-e" in final.column("event_id").to_pylist()
    assert _rows(final) == _rows(_network(engine, "m-a", None))


def test_kept_tables_are_narrow_and_widen_to_the_features_columns(engine: Engine) -> None:
    _city(engine)
    table = _network(engine, "m-a", None)
    narrow = table.select(list(NETWORK_COLUMNS))
    assert len(NETWORK_COLUMNS) < table.num_columns
    # The columns left out are empty for every network event, so nothing is lost.
    for name in set(table.column_names) - set(NETWORK_COLUMNS):
        assert table.column(name).null_count == table.num_rows, name
    assert widen(narrow).equals(table)
