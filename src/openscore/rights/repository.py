"""Every query over pseudonyms, consent grants and the access log. Flushes; never commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Row, Table, select, tuple_, update
from sqlalchemy.orm import Session

from openscore.db.tables import AccessLogEntry, ConsentGrant, Pseudonym

pseudonyms = cast(Table, Pseudonym.__table__)
grants = cast(Table, ConsentGrant.__table__)
access_log = cast(Table, AccessLogEntry.__table__)


class RightsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- pseudonyms --------------------------------------------------------------------------

    def pseudonym(self, member_id: str, partner_id: str) -> str | None:
        query = select(pseudonyms.c.pseudonym).where(
            pseudonyms.c.member_id == member_id, pseudonyms.c.partner_id == partner_id
        )
        value = self.session.execute(query).scalar_one_or_none()
        return str(value) if value is not None else None

    def add_pseudonym(
        self, pseudonym: str, member_id: str, partner_id: str, now: dt.datetime
    ) -> None:
        self.session.execute(
            pseudonyms.insert().values(
                pseudonym=pseudonym, member_id=member_id, partner_id=partner_id, created_at=now
            )
        )

    def members_by_pseudonym(self, partner_id: str, names: Iterable[str]) -> dict[str, str]:
        """``pseudonym → member_id`` for those of ``names`` issued to this partner."""
        wanted = sorted(set(names))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 5_000):
            query = select(pseudonyms.c.pseudonym, pseudonyms.c.member_id).where(
                pseudonyms.c.partner_id == partner_id,
                pseudonyms.c.pseudonym.in_(wanted[start : start + 5_000]),
            )
            found.update({row.pseudonym: row.member_id for row in self.session.execute(query)})
        return found

    def pseudonyms_of(self, member_id: str) -> dict[str, str]:
        query = select(pseudonyms.c.partner_id, pseudonyms.c.pseudonym).where(
            pseudonyms.c.member_id == member_id
        )
        return {row.partner_id: row.pseudonym for row in self.session.execute(query)}

    # --- grants ------------------------------------------------------------------------------

    def add_grant(self, **values: Any) -> None:
        self.session.execute(grants.insert().values(**values))

    def grants_of(self, member_id: str) -> list[Row[Any]]:
        query = (
            select(grants)
            .where(grants.c.member_id == member_id)
            .order_by(grants.c.granted_at.desc(), grants.c.grant_id)
        )
        return list(self.session.execute(query))

    def grant(self, grant_id: str) -> Row[Any] | None:
        return self.session.execute(select(grants).where(grants.c.grant_id == grant_id)).first()

    def active_grant(
        self, member_id: str, partner_id: str, purpose: str, now: dt.datetime
    ) -> Row[Any] | None:
        """The member's live grant to the partner for the purpose, locked against change.

        ``FOR SHARE`` on PostgreSQL: a revocation waits for the read it would have stopped to
        commit with its access-log entry (SQLite serialises writers anyway).
        """
        query = (
            select(grants)
            .where(
                grants.c.member_id == member_id,
                grants.c.partner_id == partner_id,
                grants.c.purpose == purpose,
                grants.c.revoked_at.is_(None),
                grants.c.expires_at > now,
            )
            .order_by(grants.c.granted_at.desc())
            .limit(1)
            .with_for_update(read=True)
        )
        return self.session.execute(query).first()

    def active_grants(
        self, wanted: Iterable[tuple[str, str, str]], now: dt.datetime
    ) -> dict[tuple[str, str, str], Row[Any]]:
        """``(member_id, partner_id, purpose) → `` the live grant (the latest granted: its
        ``grant_id`` and ``level``), for those of ``wanted`` that have one, locked against
        change as ``active_grant``'s.

        Only the columns an authorisation needs, the latest last by the store's order: the
        standing desk reads one per query, and turning a whole grant row's instants into
        datetimes was a fifth of the read.
        """
        keys = sorted(set(wanted))
        found: dict[tuple[str, str, str], Row[Any]] = {}
        columns = (
            grants.c.member_id,
            grants.c.partner_id,
            grants.c.purpose,
            grants.c.grant_id,
            grants.c.level,
        )
        for start in range(0, len(keys), 1_000):
            query = (
                select(*columns)
                .where(
                    tuple_(grants.c.member_id, grants.c.partner_id, grants.c.purpose).in_(
                        keys[start : start + 1_000]
                    ),
                    grants.c.revoked_at.is_(None),
                    grants.c.expires_at > now,
                )
                .order_by(grants.c.granted_at, grants.c.grant_id)
                .with_for_update(read=True)
            )
            for row in self.session.execute(query):
                found[(row.member_id, row.partner_id, row.purpose)] = cast(Row[Any], row)
        return found

    def change_grant(self, grant_id: str, **values: Any) -> None:
        self.session.execute(update(grants).where(grants.c.grant_id == grant_id).values(**values))

    # --- access log --------------------------------------------------------------------------

    def log_accesses(self, entries: list[dict[str, Any]]) -> None:
        """Several access-log entries in one statement (executemany)."""
        if entries:
            self.session.execute(access_log.insert(), entries)

    def access_log(self, member_id: str | None, limit: int) -> list[Row[Any]]:
        query = select(access_log)
        if member_id is not None:
            query = query.where(access_log.c.member_id == member_id)
        query = query.order_by(access_log.c.asked_at.desc(), access_log.c.entry_id.desc())
        return list(self.session.execute(query.limit(limit)))
