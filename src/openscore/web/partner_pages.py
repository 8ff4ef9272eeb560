"""The partner's page: sign in with an API key, verify an attestation, ask for a member's
standing under their grant, and report a file of events with the errors shown by line.

Every action goes through the same domain functions as the API, so consent, the access log,
rate limits and the batch rules are exactly the API's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from openscore.accounts.schemas import Role
from openscore.api.deps import DbSession, UnitOfWorkRoute, now
from openscore.attest.repository import SigningKeysRepository
from openscore.attest.schemas import Verification
from openscore.attest.verify import verification
from openscore.errors import DomainError, Forbidden
from openscore.partners import service as partners
from openscore.partners.repository import PartnersRepository
from openscore.partners.schemas import BatchAccepted, PartnerCaller, Scope
from openscore.rights.repository import RightsRepository
from openscore.rights.schemas import Purpose
from openscore.scoring.records import ScoreRecords
from openscore.standing import service as standing
from openscore.standing.schemas import StandingOut
from openscore.web.common import (
    Posted,
    PostedForm,
    page,
    render,
    signed_in_holder,
    state_of,
)
from openscore.web.consent_pages import PURPOSE_WORDS
from openscore.web.eventfile import EventFileError, LineError, read_event_file
from openscore.web.keysession import KeySignInFailed, sign_in_with_key, sign_out_key
from openscore.web.security import CsrfRejected
from openscore.web.views import NavItem

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

#: The largest event file the page accepts (the API's batch limit is 10,000 events).
MAX_UPLOAD_BYTES = 8 * 1024 * 1024


@dataclass
class PartnerView:
    """What the partner page shows; each section's outcome is set after its form posts."""

    partner: PartnerCaller | None
    purposes: dict[Purpose, str]
    errors: list[str] = field(default_factory=list)
    verified: Verification | None = None
    token: str = ""
    standing: StandingOut | None = None
    standing_refused: str | None = None
    pseudonym: str = ""
    accepted: BatchAccepted | None = None
    file_errors: list[LineError] = field(default_factory=list)
    file_name: str = ""


def partner_caller(request: Request) -> PartnerCaller | None:
    """The partner signed in to the pages, as the API's ``CurrentPartner`` would see it.

    Key and partner are read in one session of their own, not the page's unit of work
    (which may then write: see ``signed_in_member``).
    """
    with state_of(request).sessions() as own:
        found = signed_in_holder(request, own)
        if found is None or found[0].role is not Role.partner:
            return None
        holder = found[0]
        row = PartnersRepository(own).get(holder.holder)
    if row is None:
        return None
    return partners.partner_caller(row, holder.key_id)


def _render(request: Request, view: PartnerView, status: int = 200) -> Response:
    nav = [NavItem("Partner", "/partner", True)]
    context = page(
        request,
        "Partner",
        nav=nav,
        signed_in_as=view.partner.name if view.partner else None,
        signout_href="/partner/signout",
    )
    return render(request, "partner.html", context, view, status)


@router.get("/partner", response_class=HTMLResponse)
def partner_home(request: Request, db: DbSession) -> Response:
    return _render(request, PartnerView(partner_caller(request), PURPOSE_WORDS))


@router.post("/partner/signin", response_class=HTMLResponse)
def partner_signin(request: Request, db: DbSession, posted: PostedForm) -> Response:
    try:
        return sign_in_with_key(request, db, posted, Role.partner, "/partner")
    except KeySignInFailed as problem:
        view = PartnerView(None, PURPOSE_WORDS, errors=[str(problem)])
        return _render(request, view, problem.status)


@router.post("/partner/signout")
def partner_signout(posted: PostedForm) -> Response:
    return sign_out_key(posted, "/partner")


@router.post("/partner/verify", response_class=HTMLResponse)
def verify(request: Request, db: DbSession, posted: PostedForm) -> Response:
    """Anyone may verify an attestation; a signed-in partner also checks it was meant for it."""
    view = PartnerView(partner_caller(request), PURPOSE_WORDS)
    try:
        form = posted.checked()
    except CsrfRejected as problem:
        view.errors = [str(problem)]
        return _render(request, view, 400)
    view.token = str(form.get("token", "")).strip()
    if not view.token:
        view.errors = ["Paste an attestation to verify."]
        return _render(request, view, 422)
    client = request.client.host if request.client else "unknown"
    try:
        state_of(request).limits.check("verify", client)
    except DomainError as problem:
        view.errors = [problem.detail]
        return _render(request, view, problem.status)
    instant = now()
    keys = state_of(request).key_ring.key_set(SigningKeysRepository(db), instant)
    audience = view.partner.partner_id if view.partner else None
    view.verified = verification(view.token, keys, audience=audience, now=instant)
    return _render(request, view)


def _partner_form(request: Request, db: DbSession, posted: Posted) -> tuple[PartnerView, Any]:
    view = PartnerView(partner_caller(request), PURPOSE_WORDS)
    try:
        form = posted.checked()
    except CsrfRejected as problem:
        view.errors = [str(problem)]
        return view, None
    if view.partner is None:
        view.errors = ["Sign in with your API key first."]
        return view, None
    return view, form


@router.post("/partner/standing", response_class=HTMLResponse)
def ask_standing(request: Request, db: DbSession, posted: PostedForm) -> Response:
    view, form = _partner_form(request, db, posted)
    if form is None or view.partner is None:
        return _render(request, view, 401 if view.partner is None else 400)
    view.pseudonym = str(form.get("pseudonym", "")).strip()
    try:
        purpose = Purpose(str(form.get("purpose", "")))
        if Scope.standing_read not in view.partner.scopes:
            raise Forbidden("your keys do not carry the scope 'standing:read'")
        state_of(request).limits.check("partner", view.partner.partner_id)
        view.standing = standing.partner_standing(
            RightsRepository(db),
            ScoreRecords(db),
            state_of(request).key_ring,
            SigningKeysRepository(db),
            view.partner,
            view.pseudonym,
            purpose,
            now(),
        )
    except DomainError as problem:
        view.standing_refused = problem.detail
        return _render(request, view, problem.status)
    except ValueError:
        view.errors = ["Choose a purpose from the list."]
        return _render(request, view, 422)
    return _render(request, view)


@router.post("/partner/events", response_class=HTMLResponse)
def post_events(request: Request, db: DbSession, posted: PostedForm) -> Response:
    view, form = _partner_form(request, db, posted)
    if form is None or view.partner is None:
        return _render(request, view, 401 if view.partner is None else 400)
    upload = form.get("events")
    if upload is None or isinstance(upload, str) or not upload.filename:
        view.errors = ["Choose a file of events (JSON Lines or a JSON array)."]
        return _render(request, view, 422)
    view.file_name = upload.filename
    if Scope.events_write not in view.partner.scopes:
        view.errors = ["Your keys do not carry the scope 'events:write'."]
        return _render(request, view, 403)
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(data) > MAX_UPLOAD_BYTES:
            raise EventFileError([LineError(None, None, "the file is larger than 8 MiB")])
        batch = read_event_file(upload.filename, data)
    except EventFileError as problem:
        view.file_errors = problem.errors
        return _render(request, view, 422)
    try:
        state = state_of(request)
        view.accepted = partners.report_events(
            db, view.partner, batch.events, state.rescorer, now(), backlog=state.backlog
        )
    except DomainError as problem:
        db.rollback()
        view.file_errors = batch.line_errors(problem)
        view.errors = [problem.detail]
        return _render(request, view, problem.status)
    return _render(request, view)
