"""Members sign in with a password (argon2id) and get a bearer token and a signed cookie."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository, credentials, sessions
from openscore.accounts.secrets import secret_hash
from openscore.api.deps import SESSION_COOKIE, now
from tests.api.world import MEMBER, PASSWORD, build_world


def test_passwords_are_stored_as_argon2id_hashes(engine: Engine, tmp_path: Path) -> None:
    build_world(engine, tmp_path)
    with sessionmaker(engine)() as session:
        stored = session.execute(
            select(credentials.c.password_hash).where(credentials.c.member_id == MEMBER)
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_session_works_as_a_cookie_and_ends_on_sign_out(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path)
    signed_in = world.client.post("/v1/sessions", json={"member_id": MEMBER, "password": PASSWORD})
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert world.client.get("/v1/me").json()["member_id"] == MEMBER
    assert world.client.delete("/v1/sessions/current").status_code == 204
    world.client.cookies.set(SESSION_COOKIE, cookie.split(";")[0].split("=", 1)[1])
    assert world.client.get("/v1/me").status_code == 401


def test_a_forged_cookie_is_refused(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path)
    token = world.keys["member"]
    world.client.cookies.set(SESSION_COOKIE, f"{token}.not-the-signature")
    assert world.client.get("/v1/me").status_code == 401


def test_only_the_hash_of_a_session_token_is_stored(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path)
    with sessionmaker(engine)() as session:
        stored = set(session.execute(select(sessions.c.token_hash)).scalars())
    assert secret_hash(world.keys["member"]) in stored
    assert world.keys["member"] not in stored


def test_wrong_passwords_and_unknown_members_get_the_same_answer(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path)
    wrong = world.client.post("/v1/sessions", json={"member_id": MEMBER, "password": "nope"})
    nobody = world.client.post("/v1/sessions", json={"member_id": "m-nobody", "password": "x"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json()


def test_sign_in_is_rate_limited(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path, rate_limit_sign_in="3/minute")
    # build_world signed in once as this member (one of the three).
    statuses = [
        world.client.post(
            "/v1/sessions", json={"member_id": MEMBER, "password": "wrong"}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_the_password_is_checked_without_holding_the_write_lock(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 takes tens of milliseconds; no other writer of the process waits for it."""
    world = build_world(engine, tmp_path)
    writers = world.app.state.service.writers
    held_while_checking: list[bool] = []
    checked = accounts.password_matches

    def watched(password_hash: str, password: str) -> bool:
        held_while_checking.append(writers.locked())
        return checked(password_hash, password)

    monkeypatch.setattr(accounts, "password_matches", watched)
    answer = world.client.post("/v1/sessions", json={"member_id": MEMBER, "password": PASSWORD})
    assert answer.status_code == 201
    assert held_while_checking == [False]


def test_sign_out_writes_under_the_write_lock(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(engine, tmp_path)
    writers = world.app.state.service.writers
    signed_in = world.client.post("/v1/sessions", json={"member_id": MEMBER, "password": PASSWORD})
    assert signed_in.status_code == 201
    held_while_ending: list[bool] = []
    end = AccountsRepository.end_session

    def watched(repository: AccountsRepository, token_hash: str, at: object) -> None:
        held_while_ending.append(writers.locked())
        end(repository, token_hash, at)  # type: ignore[arg-type]

    monkeypatch.setattr(AccountsRepository, "end_session", watched)
    assert world.client.delete("/v1/sessions/current").status_code == 204
    expected = [engine.dialect.name == "sqlite"]  # PostgreSQL locks rows, not the store
    assert held_while_ending == expected
    assert not writers.locked()


def test_a_password_changed_while_it_was_checked_refuses_the_sign_in(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(engine, tmp_path)
    checked = accounts.password_matches

    def changed_meanwhile(password_hash: str, password: str) -> bool:
        matches = checked(password_hash, password)
        with sessionmaker(engine).begin() as session:  # another writer, between check and write
            accounts.set_member_password(
                AccountsRepository(session), MEMBER, "a new long passphrase", now()
            )
        return matches

    with sessionmaker(engine)() as session:
        before = set(session.execute(select(sessions.c.token_hash)).scalars())
    monkeypatch.setattr(accounts, "password_matches", changed_meanwhile)
    answer = world.client.post("/v1/sessions", json={"member_id": MEMBER, "password": PASSWORD})
    assert answer.status_code == 401
    with sessionmaker(engine)() as session:
        assert set(session.execute(select(sessions.c.token_hash)).scalars()) == before
