"""The rules for partners: registration with a key shown once, and reporting events.

A partner reports events about members by the pseudonyms it was issued, under its own
source. The batch is validated whole first (every error by position, nothing written if
any), then appended by the ledger's own ``Ingestion`` (idempotent on (source, event_id)),
and every member with a new event is rescored in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import Role
from openscore.db.dialect import claim_write_lock
from openscore.errors import Conflict, Invalid
from openscore.ledger.canonical import Prepared
from openscore.ledger.files import Chunk
from openscore.ledger.repository import LedgerRepository, events
from openscore.ledger.service import Ingestion, IngestRejected
from openscore.ledger.validation import parse_json, validation_context
from openscore.partners.repository import PartnersRepository
from openscore.partners.schemas import (
    BatchAccepted,
    BatchError,
    PartnerCaller,
    PartnerOut,
    RescoreOutcome,
    Scope,
)
from openscore.rights.repository import RightsRepository
from openscore.scoring.records import ScoreRecords
from openscore.standing.backlog import SYNC_MEMBERS, RescoringBacklog
from openscore.standing.repository import StandingRepository
from openscore.standing.rescoring import Rescorer

#: Facts about membership itself, ties and groups come from the platform and members,
#: never from a partner.
NOT_FROM_PARTNERS = frozenset(
    {
        "member_enrolled",
        "member_left",
        "connection_made",
        "connection_removed",
        "group_joined",
        "group_left",
    }
)


def add_partner(
    partners: PartnersRepository,
    keys: AccountsRepository,
    partner_id: str,
    name: str,
    scopes: Sequence[Scope],
    threshold: int,
    now: dt.datetime,
) -> tuple[str, str]:
    """Register a partner and issue its first key: ``(key_id, key)``."""
    if partners.get(partner_id) is not None:
        raise Conflict(f"partner {partner_id!r} exists already")
    if not 350 <= threshold <= 950:
        raise Invalid("the threshold is a score, between 350 and 950")
    scope_text = " ".join(sorted({s.value for s in scopes}))
    partners.add(partner_id, name, scope_text, threshold, now)
    return accounts.issue_api_key(keys, Role.partner, partner_id, now)


def partner_out(row: Any) -> PartnerOut:
    return PartnerOut(
        partner_id=row.partner_id,
        name=row.name,
        scopes=[Scope(s) for s in row.scopes.split()],
        threshold=row.threshold,
        created_at=row.created_at,
    )


def partner_caller(row: Any, key_id: str) -> PartnerCaller:
    """The partner a stored row describes, calling with the API key ``key_id``."""
    return PartnerCaller(
        partner_id=row.partner_id,
        name=row.name,
        scopes=frozenset(Scope(s) for s in row.scopes.split()),
        threshold=row.threshold,
        key_id=key_id,
    )


def _translate(
    partner: PartnerCaller, items: list[dict[str, Any]], members: dict[str, str]
) -> tuple[list[dict[str, Any]], list[BatchError]]:
    """The batch with pseudonyms replaced by member ids and the source filled in."""
    errors: list[BatchError] = []
    translated: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        record = dict(item)
        kind = record.get("type")
        if isinstance(kind, str) and kind in NOT_FROM_PARTNERS:
            message = f"{kind} is not reported by partners"
            errors.append(BatchError(index=index, field="type", message=message))
        source = record.setdefault("source", partner.source)
        if source != partner.source:
            message = f"must be your own source {partner.source!r}"
            errors.append(BatchError(index=index, field="source", message=message))
        name = record.get("member_id")
        if isinstance(name, str):
            if name in members:
                record["member_id"] = members[name]
            else:
                message = "no member is known to you by this pseudonym"
                errors.append(BatchError(index=index, field="member_id", message=message))
        translated.append(record)
    return translated, errors


def report_events(
    session: Session,
    partner: PartnerCaller,
    items: list[dict[str, Any]],
    rescorer: Rescorer,
    now: dt.datetime,
    backlog: RescoringBacklog | None = None,
) -> BatchAccepted:
    """Validate, append and rescore a partner's batch; raises ``Invalid`` listing every error.

    A batch about more than ``SYNC_MEMBERS`` members is rescored by ``backlog`` after the
    commit (see :mod:`openscore.standing.backlog`); smaller ones before the answer.
    """
    claim_write_lock(session)
    names = [i["member_id"] for i in items if isinstance(i.get("member_id"), str)]
    members = RightsRepository(session).members_by_pseudonym(partner.partner_id, names)
    translated, errors = _translate(partner, items, members)
    chunk = Chunk()
    context = validation_context(now)
    for index, record in enumerate(translated):
        parsed = parse_json(_json(record), context)
        if isinstance(parsed, Prepared):
            chunk.events.append(parsed._replace(position=index))
        else:
            errors.extend(BatchError(index=index, field=f, message=m) for f, m in parsed.errors)
    if errors:
        raise _invalid(errors, members)
    ledger = LedgerRepository(session.connection())
    origin = f"{partner.source} api key {partner.key_id}"
    ingestion = Ingestion(ledger, channel="api", origin=origin, now=now)
    ingestion.feed(chunk)
    try:
        report = ingestion.finish()
    except IngestRejected as rejection:
        found = [
            BatchError(index=e.index or 0, field=e.field, message=e.message)
            for e in rejection.report.errors
        ]
        raise _invalid(found, members) from None
    keys = [e.event_id for e in chunk.events]
    outcome = _rescore(session, rescorer, partner.source, keys, now, backlog)
    return BatchAccepted(inserted=report.inserted, duplicates=report.duplicates, rescoring=outcome)


def _json(record: dict[str, Any]) -> bytes:
    """The item as JSON again, so the catalogue checks it exactly as it checks a JSONL line."""
    try:
        return orjson.dumps(record)
    except TypeError:  # integers beyond 64 bits: the catalogue will say which field
        return json.dumps(record).encode()


def _invalid(errors: list[BatchError], members: dict[str, str]) -> Invalid:
    # The ledger's messages may name a member; a partner only ever sees its pseudonym.
    back = {member: name for name, member in members.items()}
    items = []
    for error in sorted(errors, key=lambda e: e.index):
        message = error.message
        for member, name in back.items():
            message = message.replace(repr(member), repr(name))
        items.append({"index": error.index, "field": error.field, "message": message})
    return Invalid(f"{len(items)} problem(s) in the batch; nothing was written", errors=items)


def _new_events(
    session: Session, source: str, event_ids: list[str], received_at: dt.datetime
) -> dict[str, str]:
    """``member_id → cause`` naming each member's latest event this batch inserted.

    An import stamps every event it inserts with its own instant, so the batch's keys
    received at ``received_at`` are exactly the new ones (repeats keep their first receipt).
    """
    latest: dict[str, str] = {}
    for start in range(0, len(event_ids), 5_000):
        query = (
            select(events.c.member_id, events.c.event_id)
            .where(
                events.c.source == source,
                events.c.event_id.in_(event_ids[start : start + 5_000]),
                events.c.received_at == received_at,
            )
            .order_by(events.c.occurred_at, events.c.seq)
        )
        for row in session.execute(query):
            latest[row.member_id] = f"event:{source}/{row.event_id}"
    return latest


def _rescore(
    session: Session,
    rescorer: Rescorer,
    source: str,
    event_ids: list[str],
    now: dt.datetime,
    backlog: RescoringBacklog | None,
) -> RescoreOutcome:
    """Rescore each member with a new event, naming their latest new event as the cause."""
    latest = _new_events(session, source, event_ids, now)
    artefact = rescorer.champion()
    if artefact is None:
        return RescoreOutcome(
            rescored=0, model_version=None, note="no champion model yet: nothing was rescored"
        )
    if backlog is not None and len(latest) > SYNC_MEMBERS:
        # Queued only once the events are committed: a rolled-back batch rescores no one.
        event.listen(session, "after_commit", lambda _: backlog.submit(latest), once=True)
        return RescoreOutcome(
            rescored=0,
            queued=len(latest),
            model_version=artefact.model_id,
            note=f"{len(latest)} members are being rescored in the background",
        )
    standing, records = StandingRepository(session), ScoreRecords(session)
    rescored = 0
    for member_id, cause in latest.items():
        if rescorer.rescore(standing, records, member_id, cause=cause, as_of=now) is not None:
            rescored += 1
    return RescoreOutcome(rescored=rescored, model_version=artefact.model_id)
