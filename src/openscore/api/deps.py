"""Typed dependencies: the request's unit of work, the service's state, and who is asking.

Callers present ``Authorization: Bearer <secret>``: an API key (``osk_``: partner, operator,
auditor) or a member's session token (``oss_``); pages send the member's session as a signed
HttpOnly cookie instead. A missing or unknown credential is 401; a valid one of the wrong
kind for the endpoint is 403.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import anyio.to_thread
from cachetools import TTLCache
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import KeyHolder, Role
from openscore.accounts.secrets import secret_hash, unsign_cookie
from openscore.api.ratelimit import RateLimits
from openscore.attest.service import KeyRing
from openscore.config import Settings
from openscore.db.dialect import HOLDING, WRITERS, abandon_unit_of_work, finish_unit_of_work
from openscore.errors import Forbidden, NotSignedIn
from openscore.partners.repository import PartnersRepository
from openscore.partners.schemas import PartnerCaller, Scope
from openscore.partners.service import partner_caller
from openscore.standing.backlog import RescoringBacklog
from openscore.standing.desk import StandingDesk
from openscore.standing.rescoring import Rescorer

SESSION_COOKIE = "openscore_session"
#: Seconds a partner's API key, once found live, is trusted without reading the store: a key
#: revoked, or a partner changed, reaches a running service within this long.
PARTNER_KEY_TTL = 5.0


def partner_key_cache(
    timer: Callable[[], float] = time.monotonic,
) -> TTLCache[str, PartnerCaller]:
    """Live partner keys by their hash, each for ``PARTNER_KEY_TTL`` seconds of ``timer``."""
    return TTLCache(maxsize=10_000, ttl=PARTNER_KEY_TTL, timer=timer)


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
    desk: StandingDesk
    partner_keys: TTLCache[str, PartnerCaller]


def service_state(request: Request) -> ServiceState:
    """The app's service state (what ``State`` gives, without a dependency to solve)."""
    state: ServiceState = request.app.state.service
    return state


async def get_state(request: Request) -> ServiceState:
    # A coroutine, so that FastAPI runs it in the event loop: a plain function would cost a
    # hop to the thread pool and back for an attribute read, on every request.
    return service_state(request)


State = Annotated[ServiceState, Depends(get_state)]


async def get_session(state: State) -> AsyncIterator[Session]:
    """The request's unit of work: committed when the endpoint returns, else rolled back.

    Plain endpoints commit or roll it back in their own thread, before FastAPI validates the
    response (``UnitOfWorkRoute``), so a caller never hears "done" about something that did
    not commit. A coroutine: making a session does no I/O, and on the way out there is
    nothing left but to close it, so neither needs a hop to the thread pool and back. A unit
    of work still open on the way out (no endpoint leaves one) is finished in a thread.
    """
    session = state.sessions()
    session.info[WRITERS] = state.writers
    try:
        yield session
    except BaseException:
        if _still_open(session):
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(abandon_unit_of_work, session, limiter=_own())
        raise
    else:
        if _still_open(session):
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(finish_unit_of_work, session, limiter=_own())
    finally:
        session.close()


def _still_open(session: Session) -> bool:
    return session.in_transaction() or bool(session.info.get(HOLDING))


def _own() -> anyio.CapacityLimiter:
    # Not the pool's limiter: the unit of work may hold the write lock, and its waiters may
    # hold every thread of the pool (see UnitOfWorkRoute).
    return anyio.CapacityLimiter(1)


DbSession = Annotated[Session, Depends(get_session, scope="function")]


class UnitOfWorkRoute(APIRoute):
    """A route whose plain (``def``) endpoint commits its unit of work in its own thread.

    FastAPI runs a plain endpoint in the thread pool, then validates its response in the
    pool again, and only then leaves the ``DbSession`` dependency, which committed there. On
    SQLite a writer holds the process's write lock (``claim_write_lock``) until it commits,
    and writers waiting for that lock each hold a thread of the pool: with as many of them
    as the pool has threads, the holder could never get one back to validate its answer,
    and every writer would wait for good. So the unit of work is committed (or rolled back)
    and the lock released before the endpoint's thread returns, and the holder never waits
    for the pool. Endpoints that take a ``DbSession`` are plain functions: a coroutine
    would do the store's blocking I/O, and wait for the lock, on the event loop itself
    (``tests/api/test_concurrency.py`` checks both).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _finishing_its_unit_of_work(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _finishing_its_unit_of_work(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    # functools.wraps keeps the signature (and, through __wrapped__, the annotations'
    # module) that FastAPI reads the endpoint's parameters and response model from.
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [v for v in kwargs.values() if isinstance(v, Session)]
        try:
            answer = endpoint(*args, **kwargs)
        except BaseException:
            for session in sessions:
                abandon_unit_of_work(session)
            raise
        for session in sessions:
            finish_unit_of_work(session)
        return answer

    return run


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


async def current_partner(request: Request) -> PartnerCaller:
    """The partner whose API key this is, trusted for ``PARTNER_KEY_TTL`` once read.

    A coroutine: a key read in the last few seconds is answered from memory on the event
    loop, without the hop to the thread pool and the two reads that finding it costs (most
    of a standing query's work at 32 clients). Only live partner keys are remembered, by
    their hash; any other credential is read from the store every time. The service state
    comes from the request rather than the ``State`` dependency: FastAPI solves each
    dependency again on every request, and this one is on every partner call.
    """
    state = service_state(request)
    token = bearer_token(request)
    known = secret_hash(token) if token is not None else None
    caller = state.partner_keys.get(known) if known is not None else None
    if caller is None:
        caller = await anyio.to_thread.run_sync(_read_partner, request, state)
        if known is not None:
            state.partner_keys[known] = caller
    state.limits.check("partner", caller.partner_id)
    return caller


def _read_partner(request: Request, state: ServiceState) -> PartnerCaller:
    # The key and its partner in one read session, so both are read from one snapshot.
    with state.sessions() as db:
        holder = _key_holder(request, db)
        if holder.role is not Role.partner:
            raise Forbidden("this endpoint is for partners only")
        row = PartnersRepository(db).get(holder.holder)
    if row is None:
        raise NotSignedIn("the API key's partner no longer exists")
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
