"""Partners' API keys are remembered for a few seconds once found live, and no longer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from openscore.accounts.repository import AccountsRepository
from openscore.api.deps import PARTNER_KEY_TTL, partner_key_cache
from tests.api.world import build_world


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_revoked_partner_key_stops_working_once_its_few_seconds_are_over(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path)
    clock = Clock()
    world.app.state.service.partner_keys = partner_key_cache(timer=clock)
    path = f"/v1/standing/{world.pseudonyms['right']}?purpose=lending"
    headers = world.headers("partner_right")
    assert world.client.get(path, headers=headers).status_code == 200

    with world.session() as session:
        credentials = AccountsRepository(session)
        issued = credentials.keys()  # every API key's row (a repository, not a dict)
        (key_id,) = [row.key_id for row in issued if row.holder == "right"]
        assert credentials.revoke_key(key_id, dt.datetime.now(dt.UTC))
        session.commit()

    clock.now += PARTNER_KEY_TTL - 0.5
    assert world.client.get(path, headers=headers).status_code == 200  # still remembered
    clock.now += 1.0
    answer = world.client.get(path, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == "not_authenticated"


def test_only_live_partner_keys_are_remembered(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path)
    cache = world.app.state.service.partner_keys
    path = f"/v1/standing/{world.pseudonyms['right']}?purpose=lending"
    bogus = {"Authorization": "Bearer osk_not-a-key"}
    for _ in range(2):
        assert world.client.get(path, headers=bogus).status_code == 401
        assert world.client.get(path, headers=world.headers("member")).status_code == 403
        assert world.client.get(path, headers=world.headers("operator")).status_code == 403
    assert len(cache) == 0
    assert world.client.get(path, headers=world.headers("partner_right")).status_code == 200
    assert len(cache) == 1
