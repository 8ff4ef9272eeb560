"""The rules of consent: grant, narrow, revoke; authorise a partner's read and log it.

A partner knows a member only by a pseudonym issued to it when the member first grants it
consent, so two partners cannot join what they hold on our member id. A read is authorised
by an active grant (right partner, right purpose, not expired, not revoked) and logged in the
same transaction; members' own reads never touch the log.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from openscore.db.dialect import claim_write_lock
from openscore.errors import Conflict, ConsentRequired, DomainError, Invalid, NotFound
from openscore.partners.repository import PartnersRepository
from openscore.rights.repository import RightsRepository
from openscore.rights.schemas import (
    MAX_GRANT_LIFETIME,
    AccessLogEntryOut,
    AuditedAccess,
    Authorisation,
    GrantChange,
    GrantIn,
    GrantOut,
    Level,
    Purpose,
)


def _status(row: Any, now: dt.datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    return "active" if row.expires_at > now else "expired"


def _grant_out(row: Any, pseudonym: str, now: dt.datetime) -> GrantOut:
    return GrantOut(
        grant_id=row.grant_id,
        partner_id=row.partner_id,
        purpose=Purpose(row.purpose),
        level=Level(row.level),
        granted_at=row.granted_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        status=_status(row, now),
        pseudonym=pseudonym,
    )


def pseudonym_for(
    repository: RightsRepository, member_id: str, partner_id: str, now: dt.datetime
) -> str:
    """The member's pseudonym for the partner, issued now if it has none yet."""
    existing = repository.pseudonym(member_id, partner_id)
    if existing is not None:
        return existing
    name = f"psn_{secrets.token_urlsafe(18)}"
    repository.add_pseudonym(name, member_id, partner_id, now)
    return name


def grant(
    repository: RightsRepository,
    partners: PartnersRepository,
    member_id: str,
    wanted: GrantIn,
    now: dt.datetime,
) -> GrantOut:
    """Consent to a partner for a purpose; a live grant for the same pair is superseded."""
    claim_write_lock(repository.session)
    if partners.get(wanted.partner_id) is None:
        raise NotFound(f"no partner {wanted.partner_id!r}")
    _check_expiry(wanted.expires_at, now, latest=now + MAX_GRANT_LIFETIME)
    current = repository.active_grant(member_id, wanted.partner_id, wanted.purpose.value, now)
    if current is not None:
        repository.change_grant(current.grant_id, revoked_at=now, changed_at=now)
    pseudonym = pseudonym_for(repository, member_id, wanted.partner_id, now)
    grant_id = f"cg_{secrets.token_hex(10)}"
    repository.add_grant(
        grant_id=grant_id,
        member_id=member_id,
        partner_id=wanted.partner_id,
        purpose=wanted.purpose.value,
        level=wanted.level.value,
        granted_at=now,
        expires_at=wanted.expires_at,
        changed_at=now,
    )
    row = repository.grant(grant_id)
    return _grant_out(row, pseudonym, now)


def _check_expiry(expires_at: dt.datetime, now: dt.datetime, *, latest: dt.datetime) -> None:
    if expires_at <= now:
        raise Invalid("expires_at must be in the future", errors=[_field("expires_at")])
    if expires_at > latest:
        raise Invalid(
            f"expires_at may be at most {latest.isoformat()}", errors=[_field("expires_at")]
        )


def _field(name: str) -> dict[str, Any]:
    return {"field": name, "message": "not accepted"}


def _own_grant(repository: RightsRepository, member_id: str, grant_id: str) -> Any:
    row = repository.grant(grant_id)
    # Another member's grant is answered like a missing one: its existence is not theirs.
    if row is None or row.member_id != member_id:
        raise NotFound(f"you have no grant {grant_id!r}")
    return row


def grants_of(repository: RightsRepository, member_id: str, now: dt.datetime) -> list[GrantOut]:
    names = repository.pseudonyms_of(member_id)
    return [_grant_out(row, names[row.partner_id], now) for row in repository.grants_of(member_id)]


def narrow(
    repository: RightsRepository,
    member_id: str,
    grant_id: str,
    change: GrantChange,
    now: dt.datetime,
) -> GrantOut:
    """Lower a live grant's level or bring its expiry forward; widening needs a new grant."""
    claim_write_lock(repository.session)
    row = _own_grant(repository, member_id, grant_id)
    if _status(row, now) != "active":
        raise Conflict(f"grant {grant_id} is {_status(row, now)}; grant anew instead")
    values: dict[str, Any] = {}
    if change.level is not None:
        if change.level.rank > Level(row.level).rank:
            raise Invalid(
                f"level {change.level.value} is wider than {row.level}; grant anew to widen",
                errors=[_field("level")],
            )
        values["level"] = change.level.value
    if change.expires_at is not None:
        _check_expiry(change.expires_at, now, latest=row.expires_at)
        values["expires_at"] = change.expires_at
    if values:
        repository.change_grant(grant_id, changed_at=now, **values)
    name = repository.pseudonym(member_id, row.partner_id) or ""
    return _grant_out(repository.grant(grant_id), name, now)


def revoke(
    repository: RightsRepository, member_id: str, grant_id: str, now: dt.datetime
) -> GrantOut:
    """End a grant now; partners' reads under it stop at once."""
    claim_write_lock(repository.session)
    row = _own_grant(repository, member_id, grant_id)
    if row.revoked_at is not None:
        raise Conflict(f"grant {grant_id} was already revoked")
    repository.change_grant(grant_id, revoked_at=now, changed_at=now)
    name = repository.pseudonym(member_id, row.partner_id) or ""
    return _grant_out(repository.grant(grant_id), name, now)


def authorise_many(
    repository: RightsRepository,
    asked: Sequence[tuple[str, str, Purpose]],
    now: dt.datetime,
) -> list[Authorisation | DomainError]:
    """For each ``(partner_id, pseudonym, purpose)`` read, the grant that allows this partner
    to read this member's standing for this purpose, or the refusal (returned, not raised).

    A pseudonym not issued to the partner is "not found", the same as one never issued:
    a partner cannot learn that a member exists from another partner's pseudonym.
    """
    by_partner: dict[str, set[str]] = {}
    for partner_id, pseudonym, _ in asked:
        by_partner.setdefault(partner_id, set()).add(pseudonym)
    members = {
        (partner_id, name): member_id
        for partner_id, names in by_partner.items()
        for name, member_id in repository.members_by_pseudonym(partner_id, names).items()
    }
    wanted = [
        (members[(partner_id, name)], partner_id, purpose.value)
        for partner_id, name, purpose in asked
        if (partner_id, name) in members
    ]
    live = repository.active_grants(wanted, now)
    found: list[Authorisation | DomainError] = []
    for partner_id, pseudonym, purpose in asked:
        member_id = members.get((partner_id, pseudonym))
        if member_id is None:
            found.append(NotFound("no member is known to you by this pseudonym"))
            continue
        row = live.get((member_id, partner_id, purpose.value))
        if row is None:
            found.append(
                ConsentRequired(
                    "the member has no active consent for you to read their standing for "
                    f"{purpose.value}"
                )
            )
            continue
        found.append(
            Authorisation(
                member_id=member_id,
                partner_id=partner_id,
                grant_id=row.grant_id,
                purpose=purpose,
                level=Level(row.level),
                pseudonym=pseudonym,
            )
        )
    return found


def record_accesses(
    repository: RightsRepository,
    reads: Sequence[tuple[Authorisation, str]],
    now: dt.datetime,
) -> None:
    """Write the access-log entries of authorised reads (in the reads' own transaction)."""
    repository.log_accesses(
        [
            {
                "member_id": authorisation.member_id,
                "partner_id": authorisation.partner_id,
                "grant_id": authorisation.grant_id,
                "purpose": authorisation.purpose.value,
                "level": authorisation.level.value,
                "answered": answered[:120],
                "asked_at": now,
            }
            for authorisation, answered in reads
        ]
    )


def access_log(
    repository: RightsRepository, member_id: str, limit: int = 200
) -> list[AccessLogEntryOut]:
    """Every partner query of the member's standing, newest first."""
    return [_entry(row) for row in repository.access_log(member_id, limit)]


def audit_log(repository: RightsRepository, limit: int = 200) -> list[AuditedAccess]:
    return [
        AuditedAccess(member_id=row.member_id, **_entry(row).model_dump())
        for row in repository.access_log(None, limit)
    ]


def _entry(row: Any) -> AccessLogEntryOut:
    return AccessLogEntryOut(
        entry_id=row.entry_id,
        partner_id=row.partner_id,
        grant_id=row.grant_id,
        purpose=Purpose(row.purpose),
        level=Level(row.level),
        answered=row.answered,
        asked_at=row.asked_at,
    )
