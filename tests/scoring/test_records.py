"""Score records on every store: add, bulk add, latest, history, and the feature-vector hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from openscore.db.tables import ScoreRecord
from openscore.scoring.records import ScoreRecordIn, ScoreRecords, features_hash

AS_OF = dt.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
HASH = "a" * 64


def record(member_id: str = "m1", **changes: Any) -> ScoreRecordIn:
    fields: dict[str, Any] = {
        "member_id": member_id,
        "as_of": AS_OF,
        "score": 640,
        "band": "good",
        "model_version": "sc-1",
        "features_hash": HASH,
        "subscores": {
            "credit_history": {"points": 210, "scale": 75.0},
            "behaviour": {"points": 40, "scale": 50.5},
        },
        "reasons": [
            {
                "feature": "on_time_share_12m",
                "points_below_best": 31,
                "sentence": "You paid 3 of your last 10 bills late.",
                "evidence": [{"event_id": "b1", "source": "partner:power"}],
            }
        ],
        "cause": "batch:run-1",
    }
    fields.update(changes)
    return ScoreRecordIn(**fields)


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(ScoreRecord)).scalar_one())


class TestAdd:
    def test_one_record_round_trips(self, engine: Engine) -> None:
        computed = dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
        with Session(engine) as session:
            score_id = ScoreRecords(session).add(record(), computed_at=computed)
            session.commit()
        with Session(engine) as session:
            stored = ScoreRecords(session).latest("m1")
        assert stored is not None
        assert stored.score_id == score_id
        assert stored.model_dump(exclude={"score_id", "computed_at"}) == record().model_dump()
        assert stored.computed_at == computed

    @pytest.mark.parametrize("size", [1, 7, 2_500])
    def test_bulk_add_writes_every_record(self, engine: Engine, size: int) -> None:
        records = [record(f"m{i:05d}", score=350 + i % 600) for i in range(size)]
        with Session(engine) as session:
            written = ScoreRecords(session).add_many(records)
            session.commit()
        assert written == size
        assert count(engine) == size
        with Session(engine) as session:
            last = ScoreRecords(session).latest(f"m{size - 1:05d}")
        assert last is not None
        assert last.score == 350 + (size - 1) % 600
        assert last.as_of == AS_OF
        assert last.reasons == record().reasons

    def test_bulk_add_of_nothing(self, engine: Engine) -> None:
        with Session(engine) as session:
            assert ScoreRecords(session).add_many([]) == 0
        assert count(engine) == 0

    def test_nothing_is_kept_without_commit(self, engine: Engine) -> None:
        with Session(engine) as session:
            ScoreRecords(session).add_many([record("m1"), record("m2")])
            session.rollback()
        assert count(engine) == 0

    def test_json_columns_are_canonical(self, engine: Engine) -> None:
        with Session(engine) as session:
            ScoreRecords(session).add_many([record()])
            session.commit()
        with engine.connect() as connection:
            subscores = connection.execute(select(ScoreRecord.subscores)).scalar_one()
        assert list(json.loads(subscores)) == ["behaviour", "credit_history"]


class TestHistory:
    def _three(self, engine: Engine) -> None:
        earlier = AS_OF - dt.timedelta(days=30)
        t1 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        with Session(engine) as session:
            repository = ScoreRecords(session)
            repository.add(record(score=600, cause="batch:a"), computed_at=t1)
            repository.add(record(as_of=earlier, score=580), computed_at=t1)
            # The same as_of rescored later (a correction) is newer than the first.
            repository.add(
                record(score=610, cause="event:x/1"), computed_at=t1 + dt.timedelta(hours=1)
            )
            repository.add(record("m2", score=900))
            session.commit()

    def test_newest_first(self, engine: Engine) -> None:
        self._three(engine)
        with Session(engine) as session:
            history = ScoreRecords(session).history("m1")
        assert [r.score for r in history] == [610, 600, 580]
        assert [r.cause for r in history] == ["event:x/1", "batch:a", "batch:run-1"]

    def test_limit(self, engine: Engine) -> None:
        self._three(engine)
        with Session(engine) as session:
            assert [r.score for r in ScoreRecords(session).history("m1", limit=2)] == [610, 600]

    def test_latest(self, engine: Engine) -> None:
        self._three(engine)
        with Session(engine) as session:
            repository = ScoreRecords(session)
            latest = repository.latest("m1")
            assert latest is not None
            assert latest.score == 610
            assert repository.latest("nobody") is None

    def test_hashes_for_a_run(self, engine: Engine) -> None:
        with Session(engine) as session:
            repository = ScoreRecords(session)
            repository.add_many(
                [
                    record("m1"),
                    record("m1", features_hash="b" * 64),
                    record("m2"),
                    record("m3", model_version="sc-2"),
                    record("m4", as_of=AS_OF.replace(year=2024)),
                ]
            )
            assert repository.hashes_for(AS_OF, "sc-1") == {
                "m1": {HASH, "b" * 64},
                "m2": {HASH},
            }

    def test_scores_until_keeps_the_newest_per_member_and_as_of(self, engine: Engine) -> None:
        self._three(engine)
        with Session(engine) as session:
            found = ScoreRecords(session).scores_until(AS_OF)
            before = ScoreRecords(session).scores_until(AS_OF - dt.timedelta(days=1))
        assert sorted(found) == [
            ("m1", AS_OF - dt.timedelta(days=30), 580),
            ("m1", AS_OF, 610),
            ("m2", AS_OF, 900),
        ]
        assert before == [("m1", AS_OF - dt.timedelta(days=30), 580)]


class TestValidation:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"as_of": AS_OF.replace(tzinfo=None)}, "as_of"),
            ({"features_hash": "xyz"}, "features_hash"),
            ({"member_id": ""}, "member_id"),
            ({"subscores": {"behaviour": {"points": 1, "scale": 101.0}}}, "scale"),
            ({"reasons": [record().reasons[0]] * 5}, "reasons"),
            ({"extra": 1}, "extra"),
        ],
    )
    def test_bad_records_are_refused(self, changes: dict[str, Any], field: str) -> None:
        with pytest.raises(ValidationError, match=field):
            record(**changes)


class TestFeaturesHash:
    def test_catalogue_order_not_mapping_order(self) -> None:
        forward = {"on_time_share_3m": 0.5, "open_loans": 2, "identity_verified": 1}
        backward = dict(reversed(list(forward.items())))
        assert features_hash(forward) == features_hash(backward)

    def test_is_sha256_of_the_canonical_pairs(self) -> None:
        values = {"open_loans": 2.0, "on_time_share_3m": 1, "debt_to_income": None}
        canonical = '[["on_time_share_3m",1.0],["debt_to_income",null],["open_loans",2]]'
        assert features_hash(values) == hashlib.sha256(canonical.encode()).hexdigest()

    def test_nan_is_null(self) -> None:
        assert features_hash({"debt_to_income": float("nan")}) == features_hash(
            {"debt_to_income": None}
        )

    def test_non_catalogue_features_follow_by_name(self) -> None:
        values = {"zeta": 1, "alpha": 2.5, "open_loans": 1}
        canonical = '[["open_loans",1],["alpha",2.5],["zeta",1.0]]'
        assert features_hash(values) == hashlib.sha256(canonical.encode()).hexdigest()

    def test_floats_are_hashed_at_twelve_significant_digits(self) -> None:
        # The same sum added in another order on another thread count.
        one = {"defaulter_exposure": 0.10915379480086311}
        other = {"defaulter_exposure": 0.10915379480086315}
        canonical = '[["defaulter_exposure",0.109153794801]]'
        assert features_hash(one) == features_hash(other)
        assert features_hash(one) == hashlib.sha256(canonical.encode()).hexdigest()
        assert features_hash(one) != features_hash({"defaulter_exposure": 0.1091537948})

    def test_a_changed_value_changes_the_hash(self) -> None:
        assert features_hash({"open_loans": 1}) != features_hash({"open_loans": 2})
        assert features_hash({"open_loans": 1}) != features_hash({"open_loans": None})


def test_latest_scores_of_many_members_agree_with_latest_of_each(engine: Engine) -> None:
    """The partner's batched read picks each member's newest record as ``latest`` does:
    latest ``as_of``, then latest computed, then latest id (ties on both included)."""
    computed = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    later = AS_OF + dt.timedelta(days=1)
    with Session(engine) as session:
        records = ScoreRecords(session)
        records.add(record("m-older-as-of", score=500), computed_at=computed)
        records.add(record("m-older-as-of", as_of=later, score=510), computed_at=computed)
        records.add(record("m-older-as-of", score=520), computed_at=computed)
        records.add(record("m-computed-later", score=600), computed_at=computed)
        records.add(
            record("m-computed-later", score=610), computed_at=computed + dt.timedelta(seconds=1)
        )
        records.add(record("m-computed-later", score=620), computed_at=computed)
        records.add(record("m-same-instants", score=700, band="fair"), computed_at=computed)
        records.add(record("m-same-instants", score=710, band="good"), computed_at=computed)
        session.commit()
    members = ["m-older-as-of", "m-computed-later", "m-same-instants", "m-no-records"]
    with Session(engine) as session:
        records = ScoreRecords(session)
        found = records.latest_scores_of(members)
        one = records.latest_scores_of(["m-same-instants"])
        expected = {m: records.latest(m) for m in members}
    assert {m: f.score for m, f in found.items()} == {
        "m-older-as-of": 510,
        "m-computed-later": 610,
        "m-same-instants": 710,
    }
    for member, latest in expected.items():
        if latest is None:
            assert member not in found
            continue
        got = found[member]
        assert (got.score, got.band, got.as_of) == (latest.score, latest.band, latest.as_of)
    assert one["m-same-instants"] == found["m-same-instants"]
