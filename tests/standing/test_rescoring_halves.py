"""Online rescoring in two halves: the member's own features beside the network read."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from openscore.features.catalogue import Dimension, feature_names, features_by_name
from openscore.features.online import OnlineFeatures
from openscore.ledger.catalogue import IncomeReceived
from openscore.ledger.service import ingest_events
from openscore.scoring.artefact import FeatureScore, ScorecardArtefact
from openscore.scoring.member import member_events
from openscore.scoring.records import ScoreRecords
from openscore.scoring.scorer import score_features
from openscore.standing.evidence import EvidenceFinder
from openscore.standing.repository import StandingRepository
from openscore.standing.rescoring import Rescorer, likely_reasons
from tests.api.world import ENROLLED_AT, enrol
from tests.standing.ledger import joined, tie

LINKED = [n for n in feature_names() if features_by_name()[n].dimension == Dimension.connections]
VALUE = st.none() | st.integers(-5, 400) | st.floats(-1.0, 5_000.0, allow_nan=False)


@pytest.fixture(scope="module")
def linked_card(champion: ScorecardArtefact) -> ScorecardArtefact:
    """The champion with every feature of the connections dimension, those it did not choose
    added, each able to cost up to 60 points."""
    added = [
        FeatureScore(
            name=name,
            dimension="connections",
            dtype="numerical",
            actionable=False,
            splits=[0.5, 100.0],
            points=[-60, -10, 0],
            missing_points=-20,
            other_points=0,
        )
        for name in LINKED
        if name not in {f.name for f in champion.features}
    ]
    return champion.model_copy(update={"features": [*champion.features, *added]})


@settings(max_examples=300, deadline=None)
@given(values=st.fixed_dictionaries({name: VALUE for name in feature_names()}))
def test_the_likely_reasons_hold_every_reason(
    linked_card: ScorecardArtefact, values: dict[str, Any]
) -> None:
    # The own half knows every feature but the connections dimension's; whatever those turn
    # out to be, the principal reasons are among the features it found evidence for.
    own = {**values, **dict.fromkeys(LINKED)}
    likely = likely_reasons(linked_card, own)
    reasons = {reason.feature for reason in score_features(linked_card, values).reasons}
    assert reasons <= set(likely)
    assert len(likely) <= 4 + len(LINKED)


def test_the_likely_reasons_leave_out_what_cannot_be_one(linked_card: ScorecardArtefact) -> None:
    values = dict.fromkeys(feature_names())
    likely = likely_reasons(linked_card, values)
    # Four of the other dimensions, and every feature of the connections the card scores.
    assert len(likely) == 4 + len(LINKED) and likely[4:] == sorted(LINKED)
    # A card that scores no connections needs no evidence for them.
    others = [f for f in linked_card.features if f.dimension != "connections"]
    assert likely_reasons(linked_card.model_copy(update={"features": others}), values) == likely[:4]


def test_an_opted_in_members_record_is_what_one_thread_computes(
    engine: Engine, champion: ScorecardArtefact
) -> None:
    enrol(engine, "m-a", "m-b", "m-c", opt_in=True)
    enrol(engine, "m-z")
    ties = [tie("m-a", "m-b"), tie("m-b", "m-a"), tie("m-b", "m-c"), tie("m-c", "m-b")]
    as_of = ENROLLED_AT + dt.timedelta(days=400)
    # A meagre income: a reason, with this event as its evidence.
    pay = IncomeReceived(
        schema_version=1,
        event_id="pay-m-a",
        type="income_received",
        member_id="m-a",
        occurred_at=as_of - dt.timedelta(days=40),
        source="partner:bank",
        amount=5_000,
        currency="EUR",
        income_kind="salary",
    )
    alone_pay = pay.model_copy(update={"event_id": "pay-m-z", "member_id": "m-z"})
    events = [*ties, joined("m-a", "g-1"), joined("m-c", "g-1"), pay, alone_pay]
    ingest_events(engine, events, origin="tests")
    rescorer = Rescorer(lambda: champion)
    halves: list[str] = []
    own_half = rescorer._own_half

    def watched(*args: Any) -> Any:
        halves.append(threading.current_thread().name)
        return own_half(*args)

    rescorer._own_half = watched  # type: ignore[method-assign]
    try:
        with sessionmaker(engine).begin() as session:
            repository = StandingRepository(session)
            records = ScoreRecords(session)
            linked = rescorer.rescore(repository, records, "m-a", cause="test", as_of=as_of)
            alone = rescorer.rescore(repository, records, "m-z", cause="test", as_of=as_of)
            network = repository.network_events_of(["m-b", "m-c"])
    finally:
        rescorer.close()
    assert linked is not None and alone is not None
    # The opted-in member's own half ran on a helper, the other member's in this thread.
    assert halves[0].startswith("own-features") and halves[1] == threading.current_thread().name
    # One thread, one query, the same inputs: the same features, score, reasons, evidence
    # (the opted-out member's evidence was begun on a helper and finished on this thread).
    network = network.filter(pc.not_equal(network.column("member_id"), "m-a"))
    for record, member_id, others in ((linked, "m-a", network), (alone, "m-z", None)):
        own = member_events(engine, member_id)
        online, finder = OnlineFeatures(), EvidenceFinder()
        try:
            values = online.compute(member_id, own, as_of, network=others, scores=[])
            assert values is not None
            expected = score_features(champion, values)
            trail = finder.find(own, as_of, [reason.feature for reason in expected.reasons])
        finally:
            online.close()
            finder.close()
        assert record.score == expected.score
        assert [r.model_dump() for r in record.reasons] == [
            {
                "feature": reason.feature,
                "points_below_best": reason.points_below_best,
                "sentence": reason.sentence,
                "evidence": trail[reason.feature],
            }
            for reason in expected.reasons
        ]
        income = next(r for r in record.reasons if r.feature == "monthly_income_12m")
        assert [e["event_id"] for e in income.evidence] == [f"pay-{member_id}"]


def test_a_finder_prepared_on_one_thread_is_finished_on_another(engine: Engine) -> None:
    enrol(engine, "m-a")
    own = member_events(engine, "m-a")
    as_of = ENROLLED_AT + dt.timedelta(days=40)
    finder = EvidenceFinder()
    try:
        whole = finder.find(own, as_of, ["membership_months", "identity_verified"])
        preparing = threading.Thread(target=finder.prepare, args=(own, as_of))
        preparing.start()
        preparing.join()
        try:
            split = finder.trails(["membership_months", "identity_verified"])
        finally:
            finder.release()
        # Released: the next member starts from empty tables.
        assert finder.find(own.slice(0, 0), as_of, ["membership_months"]) == {
            "membership_months": []
        }
    finally:
        finder.close()
    assert split == whole
    assert [e["event_id"] for e in whole["membership_months"]] == ["enrol-m-a"]
