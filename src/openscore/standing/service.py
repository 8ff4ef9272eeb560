"""Reading a member's standing: the member's own reads, and partners' reads under consent.

A member reads their own records freely and nothing is logged. A partner's read is
authorised by an active grant and logged in the same transaction, and the answer is no more
than the grant's level: by default only whether the score meets the partner's own threshold.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from openscore.attest.repository import SigningKeysRepository
from openscore.attest.schemas import Standing
from openscore.attest.service import KeyRing
from openscore.db.dialect import claim_write_lock
from openscore.errors import Conflict, DomainError, Invalid, NotFound
from openscore.partners.schemas import PartnerCaller
from openscore.rights import service as rights
from openscore.rights.repository import RightsRepository
from openscore.rights.schemas import Authorisation, Level, Purpose
from openscore.scoring.records import LatestScore, ScoreRecords
from openscore.scoring.whatif import WhatIfError, whatif
from openscore.standing.repository import StandingRepository
from openscore.standing.rescoring import Rescorer
from openscore.standing.schemas import (
    FeatureChange,
    ScoreHistory,
    ScoreOut,
    StandingOut,
    StandingQuery,
    WhatIfIn,
    WhatIfOut,
    score_out,
)


def own_score(records: ScoreRecords, member_id: str) -> ScoreOut:
    latest = records.latest(member_id)
    if latest is None:
        raise NotFound("you have no score yet")
    return score_out(latest)


def own_history(records: ScoreRecords, member_id: str, limit: int) -> ScoreHistory:
    return ScoreHistory(records=[score_out(r) for r in records.history(member_id, limit=limit)])


def own_what_if(
    rescorer: Rescorer,
    repository: StandingRepository,
    member_id: str,
    wanted: WhatIfIn,
    now: dt.datetime,
) -> WhatIfOut:
    """The member's score from their features now, and with the changes they ask about."""
    artefact = rescorer.champion()
    if artefact is None:
        raise Conflict("there is no champion model yet, so no score to change")
    found = rescorer.features(repository, member_id, now)
    if found is None:
        raise NotFound("you have no features as of now")
    values, _ = found
    for name, value in wanted.changes.items():
        if value is not None and not math.isfinite(value):
            problem = {"field": f"changes.{name}", "message": "not a finite number"}
            raise Invalid("values must be finite numbers", errors=[problem])
    try:
        answer = whatif(artefact, values, wanted.changes)
    except WhatIfError as error:
        raise Invalid(str(error)) from None
    return WhatIfOut(
        model_version=artefact.model_id,
        score_now=answer.before.score,
        band_now=answer.before.band,
        score_after=answer.after.score,
        band_after=answer.after.band,
        changes=[
            FeatureChange(
                feature=c.feature,
                before=None if c.before is None else float(c.before),
                after=None if c.after is None else float(c.after),
                points=c.points,
            )
            for c in answer.changes
        ],
    )


def _standing(level: Level, record: LatestScore, threshold: int) -> tuple[Standing, str]:
    """What a level reveals of a record, and the same in words for the access log."""
    if level is Level.score:
        return Standing(level="score", score=record.score), f"score {record.score}"
    if level is Level.band:
        return Standing(level="band", band=record.band), f"band {record.band}"
    meets = record.score >= threshold
    standing = Standing(level="answer", threshold=threshold, meets_threshold=meets)
    return standing, f"{'meets' if meets else 'does not meet'} threshold {threshold}"


def partner_standing(
    rights_repository: RightsRepository,
    records: ScoreRecords,
    key_ring: KeyRing,
    keys: SigningKeysRepository,
    partner: PartnerCaller,
    pseudonym: str,
    purpose: Purpose,
    now: dt.datetime,
) -> StandingOut:
    """Authorise by the grant, answer at its level, sign it, and log it (one transaction)."""
    (outcome,) = partner_standings(
        rights_repository,
        records,
        key_ring,
        keys,
        [StandingQuery(partner, pseudonym, purpose)],
        now,
    )
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def partner_standings(
    rights_repository: RightsRepository,
    records: ScoreRecords,
    key_ring: KeyRing,
    keys: SigningKeysRepository,
    queries: Sequence[StandingQuery],
    now: dt.datetime,
) -> list[StandingOut | DomainError]:
    """``partner_standing`` for several queries in the caller's one transaction: for each,
    its answer (logged) or its refusal (nothing written for it, and not raised)."""
    claim_write_lock(rights_repository.session)
    asked = [(q.partner.partner_id, q.pseudonym, q.purpose) for q in queries]
    authorisations = rights.authorise_many(rights_repository, asked, now)
    latest = records.latest_scores_of(
        a.member_id for a in authorisations if isinstance(a, Authorisation)
    )
    outcomes: list[StandingOut | DomainError] = []
    reads: list[tuple[Authorisation, str]] = []
    for query, authorisation in zip(queries, authorisations, strict=True):
        if isinstance(authorisation, DomainError):
            outcomes.append(authorisation)
            continue
        record = latest.get(authorisation.member_id)
        answer, answered = _answer(query, authorisation, record, key_ring, keys, now)
        reads.append((authorisation, answered))
        outcomes.append(answer)
    rights.record_accesses(rights_repository, reads, now)
    return outcomes


def _answer(
    query: StandingQuery,
    authorisation: Authorisation,
    record: LatestScore | None,
    key_ring: KeyRing,
    keys: SigningKeysRepository,
    now: dt.datetime,
) -> tuple[StandingOut, str]:
    """An authorised query's answer, signed, and what it told in words for the access log."""
    unsigned = StandingOut(
        pseudonym=query.pseudonym, purpose=query.purpose, level=authorisation.level, standing=None
    )
    if record is None:
        return unsigned, "no score yet"
    standing, answered = _standing(authorisation.level, record, query.partner.threshold)
    attestation = key_ring.sign(
        keys,
        pseudonym=query.pseudonym,
        partner_id=query.partner.partner_id,
        purpose=query.purpose.value,
        as_of=record.as_of,
        standing=standing,
        now=now,
    )
    signed = unsigned.model_copy(
        update={
            "standing": standing,
            "as_of": record.as_of,
            "attestation": attestation.token,
            "attestation_expires_at": attestation.expires_at,
        }
    )
    return signed, answered
