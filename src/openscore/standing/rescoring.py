"""Online rescoring: a new event about a member gives that member a new score record.

The member's features come from ``OnlineFeatures`` (the batch definitions, run in memory on
that member's events and, when they opted in to connections, their network's), the score
from the champion scorecard's reference scorer, and the record goes through
``openscore.scoring.records`` like a batch run's. Each reason carries its evidence trail;
the record's ``cause`` names the event that triggered it. Thread-bound engines (DuckDB
connections) are kept one per thread.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from openscore.features.online import OnlineFeatures, Values
from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.records import Reason, ScoreRecordIn, ScoreRecords, features_hash
from openscore.scoring.scorer import ScoreResult, score_features
from openscore.standing.evidence import EvidenceFinder
from openscore.standing.repository import StandingRepository

ChampionLoader = Callable[[], ScorecardArtefact | None]

#: How often the champion is looked up again (a newly promoted model shows within this).
CHAMPION_RELOAD_SECONDS = 10.0


class Rescorer:
    """Computes members' features and scores online, with the champion of the moment."""

    def __init__(self, champion: ChampionLoader) -> None:
        self._load_champion = champion
        self._champion: ScorecardArtefact | None = None
        self._loaded = -1e18
        self._lock = threading.Lock()
        self._local = threading.local()
        self._made: list[tuple[OnlineFeatures, EvidenceFinder]] = []

    def champion(self) -> ScorecardArtefact | None:
        if time.monotonic() - self._loaded >= CHAMPION_RELOAD_SECONDS:
            with self._lock:
                self._champion = self._load_champion()
                self._loaded = time.monotonic()
        return self._champion

    def _engines(self) -> tuple[OnlineFeatures, EvidenceFinder]:
        engines: tuple[OnlineFeatures, EvidenceFinder] | None = getattr(
            self._local, "engines", None
        )
        if engines is None:
            engines = (OnlineFeatures(), EvidenceFinder())
            self._local.engines = engines
            with self._lock:
                self._made.append(engines)
        return engines

    def close(self) -> None:
        """Close every thread's DuckDB connections (the service calls it as it stops).

        The threads of FastAPI's pool outlive the app; DuckDB connections left in them are
        destroyed only as the interpreter exits, and DuckDB can then abort the process
        ("terminate called without an active exception"). Threads that rescore after this
        open new ones.
        """
        with self._lock:
            made, self._made = self._made, []
            self._local = threading.local()
        for features, evidence in made:
            features.close()
            evidence.close()

    def features(
        self, repository: StandingRepository, member_id: str, as_of: dt.datetime
    ) -> tuple[Values, pa.Table] | None:
        """The member's features as of ``as_of`` and their own events (as the feature
        definitions read them, converted once for features and evidence); None if not a
        member."""
        opted_in = repository.connections_opt_in(member_id)
        if opted_in is None:
            return None
        own = repository.member_events_table(member_id)
        network, scores = None, None
        if opted_in:
            network = repository.network_events(member_id, own)
            # The member's own lagged score counts too: a group's mean score includes
            # everyone in it, as in the batch engines, which read every member's scores.
            around = set(network.column("member_id").to_pylist()) | {member_id}
            scores = repository.scores_of(around, as_of)
        online, _ = self._engines()
        values = online.compute(member_id, own, as_of, network=network, scores=scores)
        return (values, own) if values is not None else None

    def evidence(
        self, own: pa.Table, as_of: dt.datetime, features: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The events behind each of ``features`` (the evidence trail), by this thread's finder."""
        if not features:
            return {}
        _, finder = self._engines()
        return finder.find(own, as_of, features)

    def rescore(
        self,
        repository: StandingRepository,
        records: ScoreRecords,
        member_id: str,
        *,
        cause: str,
        as_of: dt.datetime,
    ) -> ScoreRecordIn | None:
        """Score the member now and append the record; None without a champion or member."""
        artefact = self.champion()
        if artefact is None:
            return None
        found = self.features(repository, member_id, as_of)
        if found is None:
            return None
        values, own = found
        result = score_features(artefact, values)
        record = ScoreRecordIn(
            member_id=member_id,
            as_of=as_of,
            score=result.score,
            band=result.band,
            model_version=artefact.model_id,
            features_hash=features_hash(values),
            subscores=result.subscores_dict(),
            reasons=self._reasons(result, own, as_of),
            cause=cause[:120],
        )
        records.add(record)
        return record

    def _reasons(self, result: ScoreResult, own: pa.Table, as_of: dt.datetime) -> list[Reason]:
        trail = self.evidence(own, as_of, [reason.feature for reason in result.reasons])
        return [
            Reason(
                feature=reason.feature,
                points_below_best=reason.points_below_best,
                sentence=reason.sentence,
                evidence=trail.get(reason.feature, []),
            )
            for reason in result.reasons
        ]
