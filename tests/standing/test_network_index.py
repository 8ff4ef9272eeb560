"""The partial index online rescoring reads a member's network through."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from openscore.db.tables import NETWORK_TYPES
from openscore.features.online import NETWORK_EVENT_TYPES
from openscore.standing.repository import StandingRepository, network_query
from tests.api.world import enrol


def test_the_index_holds_the_types_the_features_read() -> None:
    assert tuple(sorted(NETWORK_EVENT_TYPES)) == NETWORK_TYPES


def test_network_reads_find_the_rows_through_the_partial_index(sqlite_engine: Engine) -> None:
    enrol(sqlite_engine, "m-a", "m-b")
    with sessionmaker(sqlite_engine)() as session:
        found = StandingRepository(session).network_events_of(["m-a", "m-b", "m-none"])
    assert sorted(e["member_id"] for e in found) == ["m-a", "m-b"]
    query = network_query(["m-a", "m-b"]).compile(
        sqlite_engine, compile_kwargs={"literal_binds": True}
    )
    with sqlite_engine.connect() as connection:
        plan = " ".join(
            str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")
        )
    assert "USING INDEX ix_events_network_member" in plan, plan
