"""Online rescoring: a new event about a member gives that member a new score record.

The member's features come from ``OnlineFeatures`` (the batch definitions, run in memory on
that member's events and, when they opted in to connections, their network's), the score
from the champion scorecard's reference scorer, and the record goes through
``openscore.scoring.records`` like a batch run's. Each reason carries its evidence trail;
the record's ``cause`` names the event that triggered it. Thread-bound engines (DuckDB
connections) are kept one per thread.

For a member who opted in to connections, the features come in two halves at once: a helper
thread computes those from the member's own events, and the evidence their likely reasons
need, while the calling thread reads the network from the store and computes the connections
dimension. DuckDB and the store's driver let go of the GIL while they work, so on two cores
the halves overlap, and the member waits for the longer one rather than for both. The
network's rows come from memory where the store's tokens say they have not changed
(``openscore.standing.network``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

from openscore.features.catalogue import Dimension
from openscore.features.online import OnlineFeatures, Values
from openscore.scoring.artefact import ScorecardArtefact
from openscore.scoring.reasons import principal_shortfalls
from openscore.scoring.records import Reason, ScoreRecordIn, ScoreRecords, features_hash
from openscore.scoring.scorer import ScoreResult, feature_points, score_features
from openscore.standing.evidence import EvidenceFinder
from openscore.standing.network import NetworkMemory
from openscore.standing.repository import StandingRepository

ChampionLoader = Callable[[], ScorecardArtefact | None]

#: How often the champion is looked up again (a newly promoted model shows within this).
CHAMPION_RELOAD_SECONDS = 10.0

#: Threads computing members' own halves while callers read networks: one per rescoring in
#: flight that it serves (a rescoring past this many waits for one, never for anything else).
HELPERS = 4

Trail = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class _OwnHalf:
    values: Values
    opted_in: bool
    trail: Trail


def likely_reasons(artefact: ScorecardArtefact, own: Values) -> list[str]:
    """The features that can be principal reasons, known from the own half alone: the
    connections dimension's, and the most points below best among the others (a feature
    among the principal reasons of all features is among those of fewer)."""
    linked = {f.name for f in artefact.features if f.dimension == Dimension.connections}
    others = {f.name for f in artefact.features} - linked
    points = feature_points(artefact, own)
    chosen = [feature.name for _, feature in principal_shortfalls(artefact, points, among=others)]
    return chosen + sorted(linked)


class Rescorer:
    """Computes members' features and scores online, with the champion of the moment."""

    def __init__(self, champion: ChampionLoader) -> None:
        self._load_champion = champion
        self._champion: ScorecardArtefact | None = None
        self._loaded = -1e18
        self._lock = threading.Lock()
        self._local = threading.local()
        self._made: list[OnlineFeatures] = []
        # Evidence finders are lent, not bound to threads: one is prepared on a helper
        # thread and finished on the request's.
        self._finders: list[EvidenceFinder] = []
        self._free: list[EvidenceFinder] = []
        self._helpers: ThreadPoolExecutor | None = None
        #: Members' network events between rescorings, checked against the store's tokens.
        self.network_memory = NetworkMemory()

    def champion(self) -> ScorecardArtefact | None:
        if time.monotonic() - self._loaded >= CHAMPION_RELOAD_SECONDS:
            with self._lock:
                self._champion = self._load_champion()
                self._loaded = time.monotonic()
        return self._champion

    def _online(self) -> OnlineFeatures:
        """This thread's online features engine."""
        online: OnlineFeatures | None = getattr(self._local, "online", None)
        if online is None:
            online = self._local.online = OnlineFeatures()
            with self._lock:
                self._made.append(online)
        return online

    def _lend_finder(self) -> EvidenceFinder:
        with self._lock:
            if self._free:
                return self._free.pop()
        finder = EvidenceFinder()
        with self._lock:
            self._finders.append(finder)
        return finder

    def _take_back(self, finder: EvidenceFinder) -> None:
        with self._lock:
            self._free.append(finder)

    def _prepared_finder(self, own: pa.Table, as_of: dt.datetime) -> EvidenceFinder:
        """A finder that has found the member's valid events (``EvidenceFinder.prepare``)."""
        finder = self._lend_finder()
        try:
            finder.prepare(own, as_of)
        except BaseException:
            self._take_back(finder)
            raise
        return finder

    def _trails(self, finder: EvidenceFinder, features: list[str]) -> Trail:
        """A prepared finder's trails of ``features``; the finder is released and back."""
        try:
            return finder.trails(features)
        finally:
            finder.release()
            self._take_back(finder)

    def _helper_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._helpers is None:
                self._helpers = ThreadPoolExecutor(HELPERS, thread_name_prefix="own-features")
            return self._helpers

    def close(self) -> None:
        """Stop the helper threads and close every thread's DuckDB connections (the service
        calls it as it stops).

        The threads of FastAPI's pool outlive the app; DuckDB connections left in them are
        destroyed only as the interpreter exits, and DuckDB can then abort the process
        ("terminate called without an active exception"). Threads that rescore after this
        open new ones.
        """
        with self._lock:
            helpers, self._helpers = self._helpers, None
        if helpers is not None:
            helpers.shutdown(wait=True)
        with self._lock:
            made, self._made = self._made, []
            finders, self._finders, self._free = self._finders, [], []
            self._local = threading.local()
        for online in made:
            online.close()
        for finder in finders:
            finder.close()

    def features(
        self, repository: StandingRepository, member_id: str, as_of: dt.datetime
    ) -> tuple[Values, pa.Table] | None:
        """The member's features as of ``as_of`` and their own events (as the feature
        definitions read them, converted once for features and evidence); None if not a
        member."""
        found = self._features(repository, member_id, as_of, None)
        return None if found is None else (found[0], found[1])

    def _features(
        self,
        repository: StandingRepository,
        member_id: str,
        as_of: dt.datetime,
        artefact: ScorecardArtefact | None,
    ) -> tuple[Values, pa.Table, Trail] | None:
        """``features``, with the evidence of the reasons ``artefact`` is likely to give
        when it came for free (found beside the network read)."""
        opted_in = repository.connections_opt_in(member_id)
        if opted_in is None:
            return None
        own = repository.member_events_table(member_id)
        if opted_in:
            half, linked = self._with_network(repository, member_id, own, as_of, artefact)
        else:
            half, linked = self._alone(member_id, own, as_of, artefact), None
        if half is None:
            return None
        values = dict(half.values)
        if linked is None and half.opted_in:
            # The ledger says opted in where the members table did not (yet): the features
            # of an empty network, as OnlineFeatures.compute gives without one.
            linked = self._online().connections(member_id, own, as_of)
        if linked is not None:
            values.update(linked)
        return values, own, half.trail

    def _alone(
        self,
        member_id: str,
        own: pa.Table,
        as_of: dt.datetime,
        artefact: ScorecardArtefact | None,
    ) -> _OwnHalf | None:
        """The own half of a member who did not opt in. With ``artefact``, the evidence's
        valid events are found on a helper while this thread computes the features; the
        reasons' trails follow in a fraction of a millisecond each."""
        if artefact is None:
            return self._own_half(member_id, own, as_of, None)
        preparing = self._helper_pool().submit(self._prepared_finder, own, as_of)
        try:
            half = self._own_half(member_id, own, as_of, None)
        finally:
            finder = preparing.result()
        trail = self._trails(finder, [] if half is None else likely_reasons(artefact, half.values))
        return None if half is None else replace(half, trail=trail)

    def _with_network(
        self,
        repository: StandingRepository,
        member_id: str,
        own: pa.Table,
        as_of: dt.datetime,
        artefact: ScorecardArtefact | None,
    ) -> tuple[_OwnHalf | None, Values]:
        """The own half (on a helper, with its likely reasons' evidence) and, meanwhile on
        this thread, the network read and the connections half."""
        pending = self._helper_pool().submit(self._own_half, member_id, own, as_of, artefact)
        try:
            network = repository.network_events(member_id, own, self.network_memory)
            # The member's own lagged score counts too: a group's mean score includes
            # everyone in it, as in the batch engines, which read every member's scores.
            around = set(network.column("member_id").to_pylist()) | {member_id}
            scores = repository.scores_of(around, as_of)
            linked = self._online().connections(
                member_id, own, as_of, network=network, scores=scores
            )
        finally:
            half = pending.result()
        return half, linked

    def _own_half(
        self,
        member_id: str,
        own: pa.Table,
        as_of: dt.datetime,
        artefact: ScorecardArtefact | None,
    ) -> _OwnHalf | None:
        found = self._online().own(member_id, own, as_of)
        if found is None:
            return None
        values, opted_in = found
        if artefact is None:
            return _OwnHalf(values, opted_in, {})
        trail = self.evidence(own, as_of, likely_reasons(artefact, values))
        return _OwnHalf(values, opted_in, trail)

    def evidence(self, own: pa.Table, as_of: dt.datetime, features: list[str]) -> Trail:
        """The events behind each of ``features`` (the evidence trail), by a lent finder."""
        if not features:
            return {}
        finder = self._lend_finder()
        try:
            return finder.find(own, as_of, features)
        finally:
            self._take_back(finder)

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
        found = self._features(repository, member_id, as_of, artefact)
        if found is None:
            return None
        values, own, trail = found
        result = score_features(artefact, values)
        record = ScoreRecordIn(
            member_id=member_id,
            as_of=as_of,
            score=result.score,
            band=result.band,
            model_version=artefact.model_id,
            features_hash=features_hash(values),
            subscores=result.subscores_dict(),
            reasons=self._reasons(result, own, as_of, trail),
            cause=cause[:120],
        )
        records.add(record)
        return record

    def _reasons(
        self, result: ScoreResult, own: pa.Table, as_of: dt.datetime, found: Trail
    ) -> list[Reason]:
        missing = [r.feature for r in result.reasons if r.feature not in found]
        trail = {**found, **self.evidence(own, as_of, missing)}
        return [
            Reason(
                feature=reason.feature,
                points_below_best=reason.points_below_best,
                sentence=reason.sentence,
                evidence=trail.get(reason.feature, []),
            )
            for reason in result.reasons
        ]
