"""Every query over partners. Flushes; never commits."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.orm import Session

from openscore.db.tables import Partner

partners = cast(Table, Partner.__table__)


class PartnersRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, partner_id: str, name: str, scopes: str, threshold: int, now: dt.datetime
    ) -> None:
        self.session.execute(
            partners.insert().values(
                partner_id=partner_id, name=name, scopes=scopes, threshold=threshold, created_at=now
            )
        )

    def get(self, partner_id: str) -> Row[Any] | None:
        query = select(partners).where(partners.c.partner_id == partner_id)
        return self.session.execute(query).first()

    def all(self) -> list[Row[Any]]:
        return list(self.session.execute(select(partners).order_by(partners.c.partner_id)))
