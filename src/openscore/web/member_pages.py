"""The member's pages: sign in and out, the overview with what-if, records."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.secrets import sign_cookie
from openscore.api.deps import SESSION_COOKIE, DbSession, MemberCaller, UnitOfWorkRoute, now
from openscore.errors import NotSignedIn, TooManyRequests
from openscore.scoring.artefact import Value
from openscore.web import memberdata
from openscore.web.common import (
    PostedForm,
    page,
    redirect,
    render,
    signed_in_member,
    state_of,
)
from openscore.web.dashboard import build_dashboard, parse_whatif_form, whatif_outcome
from openscore.web.records import records_view
from openscore.web.security import CsrfRejected
from openscore.web.views import Message, PageContext, member_nav

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never "//elsewhere", "/\\elsewhere" (browsers read both as
    # another host) or a full URL: no open redirect.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/me"


def _member_page(request: Request, member: MemberCaller, title: str, current: str) -> PageContext:
    return page(
        request, title, nav=member_nav(current), signed_in_as=member.member_id, charts=False
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DbSession) -> Response:
    return RedirectResponse("/me" if signed_in_member(request) else "/signin", 303)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, db: DbSession, next: str | None = None) -> Response:
    if signed_in_member(request) is not None:
        return RedirectResponse(_safe_next(next), 303)
    view = {"errors": [], "member_id": "", "next": _safe_next(next)}
    return render(request, "signin.html", page(request, "Sign in"), view)


@router.post("/signin", response_class=HTMLResponse)
def signin(request: Request, db: DbSession, posted: PostedForm) -> Response:
    try:
        form = posted.checked()
    except CsrfRejected as problem:
        view = {"errors": [str(problem)], "member_id": "", "next": "/me"}
        return render(request, "signin.html", page(request, "Sign in"), view, 400)
    member_id = str(form.get("member_id", "")).strip()
    target = _safe_next(str(form.get("next", "")))
    client = request.client.host if request.client else "unknown"
    try:
        state_of(request).limits.check("sign_in", f"{client}|{member_id}")
        issued = accounts.sign_in(
            AccountsRepository(db), member_id, str(form.get("password", "")), now()
        )
    except (NotSignedIn, TooManyRequests) as problem:
        view = {"errors": [problem.detail], "member_id": member_id, "next": target}
        return render(request, "signin.html", page(request, "Sign in"), view, problem.status)
    response = RedirectResponse(target, 303)
    response.set_cookie(
        SESSION_COOKIE,
        sign_cookie(issued.token, state_of(request).cookie_key),
        max_age=int((issued.expires_at - now()).total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/signout")
def signout(request: Request, db: DbSession, posted: PostedForm) -> Response:
    try:
        posted.checked()
    except CsrfRejected:
        return redirect("/me")
    member = signed_in_member(request)
    if member is not None:
        accounts.sign_out(AccountsRepository(db), member.token, now())
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _to_signin(request: Request) -> Response:
    return RedirectResponse(f"/signin?next={request.url.path}", 303)


def _dashboard(
    request: Request,
    db: DbSession,
    member: MemberCaller,
    form: dict[str, str] | None,
    notice: Message | None = None,
) -> Response:
    data = memberdata.load(
        state_of(request), db, member.member_id, memberdata.feature_cache(request.app.state)
    )
    changes: dict[str, Value] | None = None
    errors: list[str] = []
    if form is not None and data.artefact is not None:
        changes, errors = parse_whatif_form(data.artefact, form)
    view = build_dashboard(
        data.name,
        data.history,
        data.artefact,
        data.features,
        evidence=data.evidence,
        changes=changes,
        errors=errors,
    )
    context = _member_page(request, member, "Your score", "/me")
    context.charts = view.score is not None
    if notice is not None:
        context.messages.append(notice)
    status = 400 if notice is not None and notice.kind == "error" else 200
    return render(request, "member/dashboard.html", context, view, status)


@router.get("/me", response_class=HTMLResponse)
def dashboard(request: Request, db: DbSession) -> Response:
    member = signed_in_member(request)
    if member is None:
        return _to_signin(request)
    return _dashboard(request, db, member, None)


@router.post("/me/what-if", response_class=HTMLResponse)
def whatif_form(request: Request, db: DbSession, posted: PostedForm) -> Response:
    member = signed_in_member(request)
    if member is None:
        return _to_signin(request)
    try:
        form = posted.checked()
    except CsrfRejected as problem:
        return _dashboard(request, db, member, None, Message("error", str(problem)))
    return _dashboard(request, db, member, {k: str(v) for k, v in form.items()})


@router.post("/me/what-if.json")
def whatif_json(request: Request, db: DbSession, posted: PostedForm) -> Response:
    member = signed_in_member(request)
    if member is None:
        return JSONResponse({"error": "sign in again"}, status_code=401)
    try:
        form = posted.checked()
    except CsrfRejected as problem:
        return JSONResponse({"error": str(problem)}, status_code=403)
    data = memberdata.load(
        state_of(request),
        db,
        member.member_id,
        memberdata.feature_cache(request.app.state),
        explain=False,
    )
    if data.artefact is None or data.features is None:
        return JSONResponse({"error": "no score to change yet"}, status_code=409)
    changes, errors = parse_whatif_form(data.artefact, {k: str(v) for k, v in form.items()})
    bands = memberdata.bands(data.artefact)
    outcome = whatif_outcome(data.artefact, data.features, changes, bands)
    error = "; ".join(errors) or outcome.error
    return JSONResponse(
        {
            "score": outcome.score,
            "band": outcome.band.slug,
            "band_label": outcome.band.label,
            "delta": 0 if error else outcome.delta,
            "changes": [asdict(c) for c in outcome.changes] if not error else [],
            "error": error,
        },
        status_code=422 if error else 200,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/me/records", response_class=HTMLResponse)
def records(
    request: Request, db: DbSession, page_number: Annotated[int, Query(alias="page")] = 1
) -> Response:
    member = signed_in_member(request)
    if member is None:
        return _to_signin(request)
    view = records_view(memberdata.member_events(db, member.member_id), page_number)
    context = _member_page(request, member, "My records", "/me/records")
    return render(request, "member/records.html", context, view)
