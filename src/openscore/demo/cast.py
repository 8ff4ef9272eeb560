"""The demo's people: three members worth looking at, a partner and an auditor.

The members are picked from the latest scores and the simulator's ground truth: one in the
excellent band, one whose score has been climbing since a job loss or an illness, and one
with a court judgment still open. Each gets a fresh password and grants the demo partner
consent (one at the band level, so the partner page shows more than yes/no). Keys and
passwords are new on every run because only their hashes are kept; a rerun revokes the
API keys an earlier run printed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openscore.demo.plan import DemoPlan

PARTNER_ID = "demo-bank"
PARTNER_NAME = "Demo Bank"
PARTNER_THRESHOLD = 600
AUDITOR = "demo-auditor"


@dataclass(frozen=True)
class DemoMember:
    role: str
    member_id: str
    password: str
    score: int
    band: str
    pseudonym: str
    purpose: str
    level: str


@dataclass(frozen=True)
class DemoCast:
    members: list[DemoMember]
    partner_id: str
    partner_key: str
    auditor_key: str


def _scores(data_dir: Path, as_of: dt.datetime) -> pa.Table:
    from openscore.scoring.batch import scores_dir

    return pq.read_table(scores_dir(data_dir, as_of))


def pick_members(data_dir: Path, lake: Path, city: Path, plan: DemoPlan) -> dict[str, str]:
    """Role -> member id: ``excellent``, ``recovering``, ``judgment``."""
    months = plan.score_as_ofs
    latest = _scores(data_dir, months[-1])
    earliest = _scores(data_dir, months[0])
    truth = pq.read_table(
        city / "truth" / "members.parquet",
        columns=["member_id", "shock_by_month", "left_at", "judgments"],
    )
    score = dict(zip(latest["member_id"].to_pylist(), latest["score"].to_pylist(), strict=True))
    before = dict(
        zip(earliest["member_id"].to_pylist(), earliest["score"].to_pylist(), strict=True)
    )
    still_here = {
        member
        for member, left in zip(
            truth["member_id"].to_pylist(), truth["left_at"].to_pylist(), strict=True
        )
        if left is None and member in score
    }
    picked: dict[str, str] = {}
    excellent = pc.filter(latest, pc.equal(latest["band"], "excellent"))
    top = sorted(
        (s, m)
        for m, s in zip(
            excellent["member_id"].to_pylist(), excellent["score"].to_pylist(), strict=True
        )
        if m in still_here
    )
    if top:
        picked["excellent"] = top[len(top) // 2][1]  # a typical excellent member, not the edge
    picked_recovering = _recovering(truth, still_here, score, before, plan)
    if picked_recovering:
        picked["recovering"] = picked_recovering
    judged = _open_judgment(lake, score, still_here)
    if judged:
        picked["judgment"] = judged
    return picked


def _recovering(
    truth: pa.Table,
    still_here: set[str],
    score: dict[str, int],
    before: dict[str, int],
    plan: DemoPlan,
) -> str | None:
    """Shocked between 6 and 18 months before the end, none since, score up most over the
    history months."""
    best: tuple[int, str] | None = None
    last = plan.months - 1
    for member, shocks in zip(
        truth["member_id"].to_pylist(), truth["shock_by_month"].to_pylist(), strict=True
    ):
        if member not in still_here or member not in before:
            continue
        shocked = [month for month, kind in enumerate(shocks) if kind]
        if not shocked or not last - 18 <= shocked[-1] <= last - 6:
            continue
        gain = score[member] - before[member]
        if gain > 0 and (best is None or gain > best[0]):
            best = (gain, member)
    return best[1] if best else None


def _open_judgment(lake: Path, score: dict[str, int], still_here: set[str]) -> str | None:
    """A member with a judgment entered and not satisfied (nor retracted), mid-range score."""
    import duckdb

    query = f"""
        SELECT entered.member_id
        FROM read_parquet('{lake / "events" / "*" / "*.parquet"}') AS entered
        WHERE entered.type = 'court_judgment_entered'
          AND NOT EXISTS (
            SELECT 1 FROM read_parquet('{lake / "events" / "*" / "*.parquet"}') AS later
            WHERE (later.type = 'court_judgment_satisfied' AND later.case_id = entered.case_id)
               OR (later.type = 'event_retracted'
                   AND later.retracted_event_id = entered.event_id
                   AND later.source = entered.source))
    """
    with duckdb.connect() as connection:
        members = {row[0] for row in connection.execute(query).fetchall()}
    ranked = sorted((score[m], m) for m in members & still_here)
    return ranked[len(ranked) // 2][1] if ranked else None


def make_cast(store: Engine, picked: dict[str, str], data_dir: Path, plan: DemoPlan) -> DemoCast:
    """Passwords, the partner and its grants, the auditor: all in one transaction."""
    from openscore.accounts import service as accounts
    from openscore.accounts.repository import AccountsRepository
    from openscore.accounts.schemas import Role
    from openscore.partners import service as partners
    from openscore.partners.repository import PartnersRepository
    from openscore.partners.schemas import Scope
    from openscore.rights import service as rights
    from openscore.rights.repository import RightsRepository
    from openscore.rights.schemas import GrantIn, Level, Purpose

    now = dt.datetime.now(dt.UTC)
    latest = _scores(data_dir, plan.score_as_ofs[-1])
    score = dict(zip(latest["member_id"].to_pylist(), latest["score"].to_pylist(), strict=True))
    band = dict(zip(latest["member_id"].to_pylist(), latest["band"].to_pylist(), strict=True))
    with Session(store) as session, session.begin():
        credentials = AccountsRepository(session)
        partner_rows = PartnersRepository(session)
        # Only hashes are kept, so a rerun cannot show the keys an earlier run printed: it
        # revokes them and prints new ones, rather than leave keys live that no one sees.
        demo_holders = {(Role.partner.value, PARTNER_ID), (Role.auditor.value, AUDITOR)}
        issued = credentials.keys()
        for row in issued:
            if row.revoked_at is None and (row.role, row.holder) in demo_holders:
                credentials.revoke_key(row.key_id, now)
        if partner_rows.get(PARTNER_ID) is None:
            _, partner_key = partners.add_partner(
                partner_rows,
                credentials,
                PARTNER_ID,
                PARTNER_NAME,
                [Scope.standing_read, Scope.events_write],
                PARTNER_THRESHOLD,
                now,
            )
        else:
            _, partner_key = accounts.issue_api_key(credentials, Role.partner, PARTNER_ID, now)
        _, auditor_key = accounts.issue_api_key(credentials, Role.auditor, AUDITOR, now)
        cast: list[DemoMember] = []
        for role, member_id in picked.items():
            password = f"demo-{secrets.token_urlsafe(9)}"
            accounts.set_member_password(credentials, member_id, password, now)
            level = Level.band if role == "excellent" else Level.answer
            granted = rights.grant(
                RightsRepository(session),
                partner_rows,
                member_id,
                GrantIn(
                    partner_id=PARTNER_ID,
                    purpose=Purpose.lending,
                    level=level,
                    expires_at=now + dt.timedelta(days=90),
                ),
                now,
            )
            cast.append(
                DemoMember(
                    role=role,
                    member_id=member_id,
                    password=password,
                    score=int(score[member_id]),
                    band=str(band[member_id]),
                    pseudonym=granted.pseudonym,
                    purpose=Purpose.lending.value,
                    level=level.value,
                )
            )
    return DemoCast(cast, PARTNER_ID, partner_key, auditor_key)
