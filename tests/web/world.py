"""A small scored city for the page tests, built once per session with the real commands.

Simulate a few hundred members, ingest, export the lake, train a scorecard, score everyone
at four quarter ends (a history), then give a few members passwords and register a partner
and an auditor with the domains' own functions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import Role
from openscore.db.engine import make_engine
from openscore.db.tables import ScoreRecord
from openscore.partners import service as partners
from openscore.partners.repository import PartnersRepository
from openscore.partners.schemas import Scope

MEMBERS = 800  # fewer leaves too few defaults in the training window to hold out
PASSWORD = "correct horse battery"
SCORED_AT = ("2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31")


@dataclass(frozen=True)
class World:
    data_dir: Path
    strong: str  # the highest score
    weak: str  # a poor score with something actionable to do
    partner_key: str
    auditor_key: str
    partner_id: str = "acme-bank"
    partner_name: str = "Acme Bank"


def _run(data_dir: Path, *args: str) -> None:
    env = {**os.environ, "OPENSCORE_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "openscore", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def _latest_scores(session: Session) -> dict[str, int]:
    query = select(ScoreRecord.member_id, ScoreRecord.score).order_by(ScoreRecord.as_of)
    return {member: score for member, score in session.execute(query)}


def build_world(root: Path) -> World:
    """The world in ``root``; one already built there (``world.json``) is reused."""
    saved = root / "world.json"
    if saved.exists():
        fields = json.loads(saved.read_text())
        return World(**{**fields, "data_dir": Path(fields["data_dir"])})
    world = _build(root)
    saved.write_text(json.dumps({**asdict(world), "data_dir": str(world.data_dir)}))
    return world


def _build(root: Path) -> World:
    data_dir = root / "data"
    _run(
        data_dir,
        "simulate",
        "--members",
        str(MEMBERS),
        "--months",
        "24",
        "--seed",
        "7",
        "--into-ledger",
        "--out",
        str(root / "city"),
    )
    _run(data_dir, "export")
    _run(data_dir, "train", "--as-of", "2023-12-31", "--horizon", "12")
    for as_of in SCORED_AT:
        _run(data_dir, "score", "--as-of", as_of)
    engine = make_engine(f"sqlite:///{data_dir / 'openscore.db'}")
    now = dt.datetime.now(dt.UTC)
    try:
        with Session(engine) as session, session.begin():
            scores = _latest_scores(session)
            ranked = sorted(scores, key=lambda member: (scores[member], member))
            strong, weak = ranked[-1], ranked[len(ranked) // 10]
            keys = AccountsRepository(session)
            for member in (strong, weak):
                accounts.set_member_password(keys, member, PASSWORD, now)
            _, partner_key = partners.add_partner(
                PartnersRepository(session),
                keys,
                "acme-bank",
                "Acme Bank",
                [Scope.standing_read, Scope.events_write],
                600,
                now,
            )
            _, auditor_key = accounts.issue_api_key(keys, Role.auditor, "auditor-1", now)
    finally:
        engine.dispose()
    return World(data_dir, strong, weak, partner_key, auditor_key)
