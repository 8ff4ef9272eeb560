"""What the member's pages read: name, score history, the model, features now, evidence.

Reads only, through the domains' own repositories and functions; the page handlers turn the
result into view models.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from openscore.api.deps import ServiceState
from openscore.ledger.personal import PersonalDataKeyError, load_personal_data
from openscore.ledger.repository import LedgerRepository
from openscore.scoring.artefact import ScorecardArtefact, Value
from openscore.scoring.records import ScoreRecordOut, ScoreRecords
from openscore.scoring.registry import UnknownModelError, load_model, models_dir
from openscore.standing.repository import StandingRepository
from openscore.web.dashboard import bands_of
from openscore.web.views import BandView

#: Score records shown in the history chart.
HISTORY_LIMIT = 60


@dataclass
class MemberData:
    name: str
    history: list[ScoreRecordOut]
    artefact: ScorecardArtefact | None
    features: Mapping[str, Value] | None
    evidence: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def bands(artefact: ScorecardArtefact | None) -> list[BandView]:
    return bands_of(artefact)


def member_name(state: ServiceState, db: Session, member_id: str) -> str:
    """The member's name from their (encrypted) personal data, else their member id."""
    try:
        data = load_personal_data(
            LedgerRepository(db.connection()), member_id, state.settings.personal_data_key
        )
    except PersonalDataKeyError:
        return member_id
    return data.name if data is not None else member_id


def model_of(state: ServiceState, record: ScoreRecordOut | None) -> ScorecardArtefact | None:
    """The model that produced ``record`` (what-if must use the same one), else the champion."""
    champion = state.rescorer.champion()
    if record is None or (champion is not None and champion.model_id == record.model_version):
        return champion
    try:
        return load_model(record.model_version, models_dir(state.settings))
    except UnknownModelError:
        return champion


def member_events(db: Session, member_id: str) -> list[Any]:
    return LedgerRepository(db.connection()).member_events(member_id)


@dataclass
class RecordInputs:
    """What a score record was computed from: features, the member's events, evidence."""

    features: dict[str, Value] | None
    own: pa.Table | None
    evidence: dict[str, list[dict[str, Any]]] | None = None


class FeatureCache:
    """Features behind recent score records, by ``score_id`` (a few hundred, least recent out).

    A record's features never change: a late event, retraction or dispute gives the member a
    new record (online rescoring), hence a new id. So the overview and each what-if of the
    same record compute the features once.
    """

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._items: OrderedDict[int, RecordInputs] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, score_id: int) -> RecordInputs | None:
        with self._lock:
            found = self._items.get(score_id)
            if found is not None:
                self._items.move_to_end(score_id)
            return found

    def put(self, score_id: int, value: RecordInputs) -> None:
        with self._lock:
            self._items[score_id] = value
            self._items.move_to_end(score_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def feature_cache(app_state: Any) -> FeatureCache:
    """The app's cache (kept on ``app.state``, made on first use)."""
    cache: FeatureCache | None = getattr(app_state, "web_feature_cache", None)
    if cache is None:
        cache = app_state.web_feature_cache = FeatureCache()
    return cache


def features_now(
    state: ServiceState, db: Session, member_id: str, as_of: dt.datetime
) -> tuple[dict[str, Value] | None, pa.Table | None]:
    """The member's features as of ``as_of`` (exactly as online rescoring computes them)."""
    found = state.rescorer.features(StandingRepository(db), member_id, as_of)
    if found is None:
        return None, None
    values, own = found
    return dict(values), own


def missing_evidence(
    state: ServiceState, record: ScoreRecordOut, own: pa.Table | None
) -> dict[str, list[dict[str, Any]]]:
    """Evidence for the reasons a record stores without any (batch records may not keep it)."""
    wanted = [reason.feature for reason in record.reasons if not reason.evidence]
    if not wanted or own is None or own.num_rows == 0:
        return {}
    return state.rescorer.evidence(own, record.as_of, wanted)


def load(
    state: ServiceState,
    db: Session,
    member_id: str,
    cache: FeatureCache,
    *,
    explain: bool = True,
) -> MemberData:
    """Everything the overview needs for one member (``explain=False``: no name, no evidence,
    for the live what-if, which needs only the model and the features)."""
    history = ScoreRecords(db).history(member_id, limit=HISTORY_LIMIT)
    latest = history[0] if history else None
    artefact = model_of(state, latest)
    features: dict[str, Value] | None = None
    evidence: dict[str, list[dict[str, Any]]] = {}
    if latest is not None:
        # What-if starts from the features the shown score came from (its as_of), so that
        # "no change" gives exactly the score on the page.
        found = cache.get(latest.score_id)
        if found is None:
            found = RecordInputs(*features_now(state, db, member_id, latest.as_of))
            cache.put(latest.score_id, found)
        features = found.features
        if explain:
            if found.evidence is None:
                found.evidence = missing_evidence(state, latest, found.own)
            evidence = found.evidence
    name = member_name(state, db, member_id) if explain else member_id
    return MemberData(name, history, artefact, features, evidence)
