"""Typed dependencies: the request's unit of work, the service's state, and who is asking.

Callers present ``Authorization: Bearer <secret>``: an API key (``osk_``: partner, operator,
auditor) or a member's session token (``oss_``); pages send the member's session as a signed
HttpOnly cookie instead. A missing or unknown credential is 401; a valid one of the wrong
kind for the endpoint is 403.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import KeyHolder, Role
from openscore.accounts.secrets import unsign_cookie
from openscore.api.ratelimit import RateLimits
from openscore.attest.service import KeyRing
from openscore.config import Settings
from openscore.db.dialect import WRITERS, release_write_lock
from openscore.errors import Forbidden, NotSignedIn
from openscore.partners.repository import PartnersRepository
from openscore.partners.schemas import PartnerCaller, Scope
from openscore.partners.service import partner_caller
from openscore.standing.backlog import RescoringBacklog
from openscore.standing.rescoring import Rescorer

SESSION_COOKIE = "openscore_session"


@dataclass
class ServiceState:
    """What one running service holds: settings, store, keys, limits and the rescorer."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    key_ring: KeyRing
    limits: RateLimits
    rescorer: Rescorer
    cookie_key: bytes
    writers: threading.Lock
    backlog: RescoringBacklog


async def get_state(request: Request) -> ServiceState:
    # A coroutine, so that FastAPI runs it in the event loop: a plain function would cost a
    # hop to the thread pool and back for an attribute read, on every request.
    state: ServiceState = request.app.state.service
    return state


State = Annotated[ServiceState, Depends(get_state)]


def get_session(state: State) -> Iterator[Session]:
    """The request's unit of work: committed when the endpoint returns, else rolled back.

    Scoped to the endpoint function, so the commit happens before the response is sent: a
    caller never hears "done" about something that did not commit.
    """
    with state.sessions() as session:
        session.info[WRITERS] = state.writers
        try:
            yield session
        except BaseException:
            session.rollback()
            release_write_lock(session)
            raise
        try:
            session.commit()
        finally:
            release_write_lock(session)


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class MemberCaller:
    """A signed-in member, and the session token they came with."""

    member_id: str
    token: str


@dataclass(frozen=True, slots=True)
class StaffCaller:
    """An operator or an auditor, by their key."""

    name: str
    role: Role
    key_id: str


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _session_token(request: Request, state: ServiceState) -> str | None:
    token = bearer_token(request)
    if token is not None:
        return token
    cookie = request.cookies.get(SESSION_COOKIE)
    return unsign_cookie(cookie, state.cookie_key) if cookie else None


# Who is asking is read in a session of its own, not the request's unit of work: on SQLite
# a transaction that has read cannot then wait for the write lock (see claim_write_lock),
# so the unit of work must be able to start with its writes.


def _key_holder(request: Request, db: Session) -> KeyHolder:
    token = bearer_token(request)
    if token is None:
        raise NotSignedIn("send an API key as 'Authorization: Bearer <key>'")
    holder = accounts.key_holder(AccountsRepository(db), token)
    if holder is None:
        if accounts.session_member(AccountsRepository(db), token, now()) is not None:
            raise Forbidden("this endpoint is not for members")
        raise NotSignedIn("the API key is not valid")
    return holder


def current_member(request: Request, state: State) -> MemberCaller:
    token = _session_token(request, state)
    if token is None:
        raise NotSignedIn("sign in first (POST /v1/sessions)")
    with state.sessions() as db:
        member_id = accounts.session_member(AccountsRepository(db), token, now())
        if member_id is None:
            if accounts.key_holder(AccountsRepository(db), token) is not None:
                raise Forbidden("this endpoint is for signed-in members only")
            raise NotSignedIn("the session has ended or is not valid; sign in again")
    return MemberCaller(member_id=member_id, token=token)


def current_partner(request: Request, state: State) -> PartnerCaller:
    # The key and its partner in one read session, so both are read from one snapshot.
    with state.sessions() as db:
        holder = _key_holder(request, db)
        if holder.role is not Role.partner:
            raise Forbidden("this endpoint is for partners only")
        row = PartnersRepository(db).get(holder.holder)
    if row is None:
        raise NotSignedIn("the API key's partner no longer exists")
    state.limits.check("partner", row.partner_id)
    return partner_caller(row, holder.key_id)


def _staff(request: Request, state: ServiceState, role: Role) -> StaffCaller:
    with state.sessions() as db:
        holder = _key_holder(request, db)
    if holder.role is not role:
        raise Forbidden(f"this endpoint is for {role.value}s only")
    return StaffCaller(name=holder.holder, role=holder.role, key_id=holder.key_id)


def current_operator(request: Request, state: State) -> StaffCaller:
    return _staff(request, state, Role.operator)


def current_auditor(request: Request, state: State) -> StaffCaller:
    return _staff(request, state, Role.auditor)


CurrentMember = Annotated[MemberCaller, Depends(current_member)]
CurrentPartner = Annotated[PartnerCaller, Depends(current_partner)]
CurrentOperator = Annotated[StaffCaller, Depends(current_operator)]
CurrentAuditor = Annotated[StaffCaller, Depends(current_auditor)]


def require_scope(partner: PartnerCaller, scope: Scope) -> None:
    if scope not in partner.scopes:
        raise Forbidden(f"this partner's keys do not carry the scope {scope.value!r}")
