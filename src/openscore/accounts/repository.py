"""Every query over API keys, member credentials and sessions. Flushes; never commits."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Row, Table, select, update
from sqlalchemy.orm import Session

from openscore.db.dialect import insert_for
from openscore.db.tables import ApiKey, Member, MemberCredential, MemberSession

api_keys = cast(Table, ApiKey.__table__)
credentials = cast(Table, MemberCredential.__table__)
sessions = cast(Table, MemberSession.__table__)
members = cast(Table, Member.__table__)


class AccountsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- API keys ------------------------------------------------------------------------

    def add_key(self, key_id: str, key_hash: str, role: str, holder: str, now: dt.datetime) -> None:
        self.session.execute(
            api_keys.insert().values(
                key_id=key_id, key_hash=key_hash, role=role, holder=holder, created_at=now
            )
        )

    def key_by_hash(self, key_hash: str) -> Row[Any] | None:
        """The live (not revoked) key with this hash."""
        query = select(api_keys.c.key_id, api_keys.c.role, api_keys.c.holder).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        )
        found: Row[Any] | None = self.session.execute(query).first()  # type: ignore[assignment]
        return found

    def keys(self) -> list[Row[Any]]:
        query = select(api_keys).order_by(api_keys.c.role, api_keys.c.holder, api_keys.c.created_at)
        return list(self.session.execute(query))

    def revoke_key(self, key_id: str, now: dt.datetime) -> bool:
        result = self.session.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # --- members ----------------------------------------------------------------------------

    def member(self, member_id: str) -> Row[Any] | None:
        return self.session.execute(select(members).where(members.c.member_id == member_id)).first()

    def set_password_hash(self, member_id: str, password_hash: str, now: dt.datetime) -> None:
        statement = insert_for(self.session, credentials).values(
            member_id=member_id, password_hash=password_hash, updated_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[credentials.c.member_id],
            set_={"password_hash": password_hash, "updated_at": now},
        )
        self.session.execute(statement)

    def password_hash(self, member_id: str) -> str | None:
        query = select(credentials.c.password_hash).where(credentials.c.member_id == member_id)
        value = self.session.execute(query).scalar_one_or_none()
        return str(value) if value is not None else None

    # --- sessions ---------------------------------------------------------------------------

    def add_session(
        self, token_hash: str, member_id: str, now: dt.datetime, expires_at: dt.datetime
    ) -> None:
        self.session.execute(
            sessions.insert().values(
                token_hash=token_hash, member_id=member_id, created_at=now, expires_at=expires_at
            )
        )

    def session_member(self, token_hash: str, now: dt.datetime) -> str | None:
        """The member of a live session (not ended, not expired)."""
        query = select(sessions.c.member_id).where(
            sessions.c.token_hash == token_hash,
            sessions.c.ended_at.is_(None),
            sessions.c.expires_at > now,
        )
        value = self.session.execute(query).scalar_one_or_none()
        return str(value) if value is not None else None

    def end_session(self, token_hash: str, now: dt.datetime) -> None:
        self.session.execute(
            update(sessions)
            .where(sessions.c.token_hash == token_hash, sessions.c.ended_at.is_(None))
            .values(ended_at=now)
        )
