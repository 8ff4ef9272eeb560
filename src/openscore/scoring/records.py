"""Score records: every score a member was given, by which model, from which features, and why.

A record is history: nothing here updates or deletes one. The batch run and the service's
online rescoring both write through :class:`ScoreRecords`, and both fingerprint the feature
vector with :func:`features_hash`, so a record can be checked against the features it claims
to come from. Repositories flush into the caller's transaction; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ARRAY, Connection, RowMapping, String, Table, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from openscore.db.tables import ScoreRecord
from openscore.db.types import to_micros
from openscore.features.catalogue import features_by_name

scores = cast(Table, ScoreRecord.__table__)
#: A member's records, newest first: latest ``as_of``, then latest computed, then latest id.
_NEWEST_FIRST = (scores.c.as_of.desc(), scores.c.computed_at.desc(), scores.c.score_id.desc())

#: Columns written by a bulk insert, in order (``score_id`` is the store's).
INSERT_COLUMNS = (
    "member_id",
    "as_of",
    "score",
    "band",
    "model_version",
    "features_hash",
    "subscores",
    "reasons",
    "cause",
    "computed_at",
)
_COPY = f"COPY scores ({', '.join(INSERT_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = ["text", "timestamptz", "int2", *["text"] * 6, "timestamptz"]
_SQLITE_INSERT = f"INSERT INTO scores ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join('?' * 10)})"


#: Significant digits of a float in :func:`features_hash`.
HASH_DIGITS = 12


class SubScore(BaseModel):
    """One dimension's share of a score: its points and the same on a 0–100 scale (radar)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    points: int
    scale: float = Field(ge=0, le=100)


class Reason(BaseModel):
    """A principal reason: a feature, the points it stands below its best, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str
    points_below_best: int = Field(ge=0)
    sentence: str
    evidence: list[Any] = Field(default_factory=list)


class ScoreRecordIn(BaseModel):
    """A score to record: member, instant, score and band, model, features' hash, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: str = Field(min_length=1, max_length=64)
    as_of: dt.datetime
    score: int = Field(ge=0, le=32767)
    band: str = Field(min_length=1, max_length=20)
    model_version: str = Field(min_length=1, max_length=80)
    features_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    subscores: dict[str, SubScore]
    reasons: list[Reason] = Field(max_length=4)
    cause: str = Field(min_length=1, max_length=120)

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("as_of needs a time zone, e.g. UTC")
        return value.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class LatestScore:
    """A member's newest score, band and ``as_of``: what a partner may be told of it."""

    score: int
    band: str
    as_of: dt.datetime


class ScoreRecordOut(ScoreRecordIn):
    """A stored score record."""

    score_id: int
    computed_at: dt.datetime


class ScoreRecords:
    """Queries over score records in the caller's session (or connection)."""

    def __init__(self, session: Session | Connection) -> None:
        self._session = session

    @property
    def _connection(self) -> Connection:
        if isinstance(self._session, Session):
            return self._session.connection()
        return self._session

    def add(self, record: ScoreRecordIn, computed_at: dt.datetime | None = None) -> int:
        """Append one record; returns its ``score_id``."""
        row = dict(zip(INSERT_COLUMNS, _row(record, computed_at or _now()), strict=True))
        result = self._connection.execute(
            scores.insert().values(**row).returning(scores.c.score_id)
        )
        return int(result.scalar_one())

    def add_many(
        self, records: Iterable[ScoreRecordIn], computed_at: dt.datetime | None = None
    ) -> int:
        """Append records in bulk (SQLite ``executemany``, PostgreSQL binary COPY).

        Returns how many were written. The caller's transaction holds them all, so a failure
        part way leaves nothing once it rolls back.
        """
        now = computed_at or _now()
        rows = [_row(record, now) for record in records]
        if not rows:
            return 0
        connection = self._connection
        raw = connection.connection.driver_connection
        assert raw is not None
        if connection.dialect.name == "sqlite":
            cursor = raw.cursor()
            try:
                cursor.executemany(_SQLITE_INSERT, [_sqlite_row(row) for row in rows])
            finally:
                cursor.close()
        else:
            with raw.cursor() as cursor, cursor.copy(_COPY) as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        return len(rows)

    def latest(self, member_id: str) -> ScoreRecordOut | None:
        """The member's newest record (latest ``as_of``, then latest computed), if any."""
        found = self.history(member_id, limit=1)
        return found[0] if found else None

    def latest_scores_of(self, member_ids: Iterable[str]) -> dict[str, LatestScore]:
        """``member_id → `` score, band and ``as_of`` of the newest record (as ``latest``),
        for those of ``member_ids`` with one: what a partner's answer needs, without the
        reasons and their evidence.

        One statement of one shape whatever the number of members (so compiled once): the
        members go as one parameter (a JSON array read by ``json_each`` on SQLite, an array
        unnested on PostgreSQL), and each one's newest record id is found through the
        (member, as_of) index.
        """
        wanted = sorted(set(member_ids))
        if not wanted:
            return {}
        if self._connection.dialect.name == "sqlite":
            members = func.json_each(orjson.dumps(wanted).decode()).table_valued("value")
        else:
            # PostgreSQL names an unnested column only through a column alias list.
            array = bindparam("members", wanted, type_=ARRAY(String))
            members = func.unnest(array).table_valued("value").render_derived(name="wanted")
        newest = aliased(scores, name="newest")
        newest_id = (
            select(newest.c.score_id)
            .where(newest.c.member_id == members.c.value)
            .order_by(newest.c.as_of.desc(), newest.c.computed_at.desc(), newest.c.score_id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = select(scores.c.member_id, scores.c.score, scores.c.band, scores.c.as_of).join_from(
            members, scores, scores.c.score_id == newest_id
        )
        return {
            member_id: LatestScore(score=score, band=band, as_of=as_of)
            for member_id, score, band, as_of in self._connection.execute(query)
        }

    def history(self, member_id: str, limit: int = 100) -> list[ScoreRecordOut]:
        """The member's records, newest first (by ``as_of``, then computed, then id)."""
        query = (
            select(scores)
            .where(scores.c.member_id == member_id)
            .order_by(*_NEWEST_FIRST)
            .limit(limit)
        )
        return [_out(row._mapping) for row in self._connection.execute(query)]

    def hashes_for(self, as_of: dt.datetime, model_version: str) -> dict[str, set[str]]:
        """``member_id → features hashes`` already recorded for one ``as_of`` and model."""
        query = select(scores.c.member_id, scores.c.features_hash).where(
            scores.c.as_of == as_of, scores.c.model_version == model_version
        )
        found: dict[str, set[str]] = {}
        for member_id, digest in self._connection.execute(query):
            found.setdefault(member_id, set()).add(digest)
        return found

    def scores_until(self, until: dt.datetime) -> list[tuple[str, dt.datetime, int]]:
        """``(member_id, as_of, score)`` for every member and ``as_of`` up to ``until``.

        When a member was scored more than once for one ``as_of`` (another model, or a
        rescore), the record computed last stands. The connections features read these.
        """
        query = (
            select(scores.c.member_id, scores.c.as_of, scores.c.score)
            .where(scores.c.as_of <= until)
            .order_by(scores.c.computed_at, scores.c.score_id)
        )
        newest = {(m, a): s for m, a, s in self._connection.execute(query)}
        return [(member, as_of, score) for (member, as_of), score in newest.items()]


def features_hash(values: Mapping[str, float | int | None]) -> str:
    """SHA-256 of a feature vector: ``[[name, value], ...]`` as canonical JSON.

    Catalogue features come first in catalogue order, then any others by name. A catalogue
    ``int64`` feature is written as an integer and every other number as a float (so ``1``
    and ``1.0`` hash alike whichever engine produced them); null and NaN are ``null``.
    Floats are hashed at :data:`HASH_DIGITS` significant digits: floating sums (the
    network features) differ in the last bits with the order an engine adds in (DuckDB
    with one thread or two: ``0.10915379480086311`` against ``...315``), and the same
    ledger must give the same hash.
    """
    catalogue = features_by_name()
    known = [name for name in catalogue if name in values]
    others = sorted(name for name in values if name not in catalogue)
    pairs = [[name, _canonical(values[name], name, catalogue)] for name in (*known, *others)]
    return hashlib.sha256(orjson.dumps(pairs)).hexdigest()


def _canonical(value: float | int | None, name: str, catalogue: Mapping[str, Any]) -> Any:
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return None
    spec = catalogue.get(name)
    if spec is not None and spec.kind == "int64":
        return int(value)
    return float(f"{number:.{HASH_DIGITS}g}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _row(record: ScoreRecordIn, computed_at: dt.datetime) -> tuple[Any, ...]:
    subscores = {name: sub.model_dump() for name, sub in record.subscores.items()}
    reasons = [reason.model_dump() for reason in record.reasons]
    return (
        record.member_id,
        record.as_of,
        record.score,
        record.band,
        record.model_version,
        record.features_hash,
        orjson.dumps(subscores, option=orjson.OPT_SORT_KEYS).decode(),
        orjson.dumps(reasons).decode(),
        record.cause,
        computed_at.astimezone(dt.UTC),
    )


def _sqlite_row(row: Sequence[Any]) -> tuple[Any, ...]:
    # The store keeps instants on SQLite as integer microseconds (``UTCDateTime``).
    return (*row[:1], to_micros(row[1]), *row[2:9], to_micros(row[9]))


def _out(row: RowMapping) -> ScoreRecordOut:
    return ScoreRecordOut(
        score_id=row["score_id"],
        member_id=row["member_id"],
        as_of=row["as_of"],
        score=row["score"],
        band=row["band"],
        model_version=row["model_version"],
        features_hash=row["features_hash"],
        subscores=orjson.loads(row["subscores"]),
        reasons=orjson.loads(row["reasons"]),
        cause=row["cause"],
        computed_at=row["computed_at"],
    )
