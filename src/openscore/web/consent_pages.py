"""The member's consents (grant, narrow, revoke) and access log ("who looked at my score")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from openscore.api.deps import DbSession, MemberCaller, UnitOfWorkRoute, now
from openscore.errors import DomainError
from openscore.partners.repository import PartnersRepository
from openscore.rights import service as rights
from openscore.rights.repository import RightsRepository
from openscore.rights.schemas import (
    MAX_GRANT_LIFETIME,
    AccessLogEntryOut,
    GrantChange,
    GrantIn,
    GrantOut,
    Level,
    Purpose,
)
from openscore.web.common import (
    Posted,
    PostedForm,
    done_message,
    page,
    redirect,
    render,
    signed_in_member,
)
from openscore.web.security import CsrfRejected
from openscore.web.views import member_nav

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

LEVEL_WORDS = {
    Level.answer: "Yes or no against their own threshold",
    Level.band: "My band (e.g. Good)",
    Level.score: "My exact score",
}
PURPOSE_WORDS = {
    Purpose.lending: "Lending",
    Purpose.deposit_free_rental: "Deposit-free rental",
    Purpose.tenancy: "Tenancy",
    Purpose.utility_account: "Utility account",
}
DONE = {
    "granted": "Consent granted.",
    "narrowed": "Consent narrowed.",
    "revoked": "Consent revoked: that partner can no longer ask about you for this purpose.",
}
#: The expiry a new grant suggests.
DEFAULT_LIFETIME = dt.timedelta(days=90)


@dataclass(frozen=True, slots=True)
class PartnerChoice:
    partner_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ConsentsView:
    grants: list[GrantOut]
    partners: list[PartnerChoice]
    names: dict[str, str]
    levels: dict[Level, str]
    purposes: dict[Purpose, str]
    default_expiry: dt.date
    latest_expiry: dt.date
    errors: list[str]


@dataclass(frozen=True, slots=True)
class AccessView:
    entries: list[AccessLogEntryOut]
    names: dict[str, str]
    purposes: dict[Purpose, str]
    levels: dict[Level, str]


def _partner_names(db: DbSession) -> dict[str, str]:
    return {row.partner_id: row.name for row in PartnersRepository(db).all()}


def _consents_page(
    request: Request, db: DbSession, member: MemberCaller, errors: list[str], status: int = 200
) -> Response:
    instant = now()
    names = _partner_names(db)
    grants = rights.grants_of(RightsRepository(db), member.member_id, instant)
    order = {"active": 0, "expired": 1, "revoked": 2}
    grants.sort(key=lambda g: (order[g.status], -g.granted_at.timestamp()))
    view = ConsentsView(
        grants=grants,
        partners=[PartnerChoice(k, v) for k, v in sorted(names.items(), key=lambda kv: kv[1])],
        names=names,
        levels=LEVEL_WORDS,
        purposes=PURPOSE_WORDS,
        default_expiry=(instant + DEFAULT_LIFETIME).date(),
        latest_expiry=(instant + MAX_GRANT_LIFETIME - dt.timedelta(days=1)).date(),
        errors=errors,
    )
    context = page(
        request,
        "Consents",
        nav=member_nav("/me/consents"),
        signed_in_as=member.member_id,
        messages=done_message(request, DONE),
    )
    return render(request, "member/consents.html", context, view, status)


def _end_of_day(text: str) -> dt.datetime:
    day = dt.date.fromisoformat(text)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


def _problems(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in error.errors()]
    if isinstance(error, DomainError):
        details = [f"{e.get('field')}: {e.get('message')}" for e in error.errors or []]
        return [error.detail, *details]
    return [str(error)]


def _member_form(
    request: Request, db: DbSession, posted: Posted
) -> tuple[MemberCaller | None, FormData | None, list[str]]:
    member = signed_in_member(request)
    if member is None:
        return None, None, []
    try:
        return member, posted.checked(), []
    except CsrfRejected as problem:
        return member, None, [str(problem)]


def _signin() -> Response:
    return RedirectResponse("/signin?next=/me/consents", 303)


@router.get("/me/consents", response_class=HTMLResponse)
def consents(request: Request, db: DbSession) -> Response:
    member = signed_in_member(request)
    if member is None:
        return _signin()
    return _consents_page(request, db, member, [])


def _act(
    request: Request,
    db: DbSession,
    posted: Posted,
    action: Callable[[MemberCaller, FormData], object],
    done: str,
    *,
    own_status: bool = False,
) -> Response:
    """A consent form's post: signed in, CSRF checked, ``action`` done, back to the page.

    A refused action rolls back and shows the page with the problems, as 422 (or, with
    ``own_status``, as the domain error's own status).
    """
    member, form, errors = _member_form(request, db, posted)
    if member is None:
        return _signin()
    if form is None:
        return _consents_page(request, db, member, errors, 400)
    try:
        action(member, form)
    except (ValidationError, DomainError, ValueError) as problem:
        db.rollback()
        status = problem.status if own_status and isinstance(problem, DomainError) else 422
        return _consents_page(request, db, member, _problems(problem), status)
    return redirect("/me/consents", message=done)


@router.post("/me/consents", response_class=HTMLResponse)
def grant(request: Request, db: DbSession, posted: PostedForm) -> Response:
    def act(member: MemberCaller, form: FormData) -> None:
        wanted = GrantIn(
            partner_id=str(form.get("partner_id", "")),
            purpose=str(form.get("purpose", "")),
            level=str(form.get("level", "answer")),
            expires_at=_end_of_day(str(form.get("expires_on", ""))),
        )
        rights.grant(RightsRepository(db), PartnersRepository(db), member.member_id, wanted, now())

    return _act(request, db, posted, act, "granted")


@router.post("/me/consents/{grant_id}/narrow", response_class=HTMLResponse)
def narrow(grant_id: str, request: Request, db: DbSession, posted: PostedForm) -> Response:
    def act(member: MemberCaller, form: FormData) -> None:
        level = str(form.get("level", ""))
        expires = str(form.get("expires_on", ""))
        change = GrantChange(
            level=Level(level) if level else None,
            expires_at=_end_of_day(expires) if expires else None,
        )
        rights.narrow(RightsRepository(db), member.member_id, grant_id, change, now())

    return _act(request, db, posted, act, "narrowed")


@router.post("/me/consents/{grant_id}/revoke", response_class=HTMLResponse)
def revoke(grant_id: str, request: Request, db: DbSession, posted: PostedForm) -> Response:
    def act(member: MemberCaller, _form: FormData) -> None:
        rights.revoke(RightsRepository(db), member.member_id, grant_id, now())

    return _act(request, db, posted, act, "revoked", own_status=True)


@router.get("/me/access", response_class=HTMLResponse)
def access(request: Request, db: DbSession) -> Response:
    member = signed_in_member(request)
    if member is None:
        return RedirectResponse("/signin?next=/me/access", 303)
    entries = rights.access_log(RightsRepository(db), member.member_id)
    view = AccessView(entries, _partner_names(db), PURPOSE_WORDS, LEVEL_WORDS)
    context = page(
        request, "Who looked", nav=member_nav("/me/access"), signed_in_as=member.member_id
    )
    return render(request, "member/access.html", context, view)
