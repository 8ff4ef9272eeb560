"""Every query over signing keys. Flushes; never commits."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Row, Table, or_, select, update
from sqlalchemy.orm import Session

from openscore.db.tables import SigningKey

signing_keys = cast(Table, SigningKey.__table__)


class SigningKeysRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, kid: str, public_jwk: str, private_key: bytes, now: dt.datetime) -> None:
        self.session.execute(
            signing_keys.insert().values(
                kid=kid, public_jwk=public_jwk, private_key=private_key, created_at=now
            )
        )

    def active(self) -> Row[Any] | None:
        """The newest key not retired: the one that signs."""
        query = (
            select(signing_keys)
            .where(signing_keys.c.retired_at.is_(None))
            .order_by(signing_keys.c.created_at.desc(), signing_keys.c.kid.desc())
            .limit(1)
        )
        return self.session.execute(query).first()

    def verifiable(self, retired_after: dt.datetime) -> list[Row[Any]]:
        """Keys not retired, or retired after ``retired_after`` (their attestations live on)."""
        query = (
            select(signing_keys.c.kid, signing_keys.c.public_jwk, signing_keys.c.retired_at)
            .where(
                or_(signing_keys.c.retired_at.is_(None), signing_keys.c.retired_at > retired_after)
            )
            .order_by(signing_keys.c.created_at.desc(), signing_keys.c.kid)
        )
        return list(self.session.execute(query))

    def retire_all_active(self, now: dt.datetime) -> list[str]:
        query = select(signing_keys.c.kid).where(signing_keys.c.retired_at.is_(None))
        kids = list(self.session.execute(query).scalars())
        if kids:
            self.session.execute(
                update(signing_keys).where(signing_keys.c.kid.in_(kids)).values(retired_at=now)
            )
        return kids
