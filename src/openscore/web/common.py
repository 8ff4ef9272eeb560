"""What every page handler shares: rendering with the layout, security headers, who is here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import KeyHolder
from openscore.accounts.secrets import unsign_cookie
from openscore.api.deps import SESSION_COOKIE, MemberCaller, ServiceState, now
from openscore.web.security import (
    KEY_COOKIE,
    CsrfRejected,
    check_csrf,
    csrf_token,
    open_key,
    set_csrf_cookie,
)
from openscore.web.templating import templates
from openscore.web.views import Message, PageContext

#: Scripts only from this site (no inline script at all); Plotly sets inline styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def state_of(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


def page(request: Request, title: str, **fields: Any) -> PageContext:
    """The layout's context for this request (with its CSRF token)."""
    return PageContext(title=title, csrf_token=csrf_token(request), **fields)


def render(
    request: Request, template: str, context: PageContext, view: Any = None, status: int = 200
) -> HTMLResponse:
    """A page: the template with ``page`` and ``view``, security headers, the CSRF cookie."""
    response = templates().TemplateResponse(
        request, template, {"page": context, "view": view}, status_code=status
    )
    response.headers.update(SECURITY_HEADERS)
    set_csrf_cookie(request, response)
    return response


def redirect(url: str, *, message: str | None = None) -> RedirectResponse:
    """A 303 See Other after a form (the browser then GETs ``url``)."""
    target = url if message is None else f"{url}{'&' if '?' in url else '?'}done={message}"
    return RedirectResponse(target, status_code=303)


def done_message(request: Request, messages: dict[str, str]) -> list[Message]:
    """The notice for ``?done=CODE`` after a redirect, from a fixed table (never echoed)."""
    code = request.query_params.get("done")
    text = messages.get(code or "")
    return [Message("ok", text)] if text else []


@dataclass(frozen=True, slots=True)
class Posted:
    """A posted form, and why the CSRF check refused it, if it did."""

    form: FormData
    refused: CsrfRejected | None

    def checked(self) -> FormData:
        """The form, once the CSRF check passed (raises ``CsrfRejected``)."""
        if self.refused is not None:
            raise self.refused
        return self.form


async def posted_form(request: Request) -> Posted:
    """The posted form, read on the event loop, so that the page handler can be a plain
    function that FastAPI runs in the thread pool: page handlers read and write the store,
    and a coroutine doing that would block the loop (``UnitOfWorkRoute``)."""
    form = await request.form()
    try:
        check_csrf(request, form)
    except CsrfRejected as problem:
        return Posted(form, problem)
    return Posted(form, None)


PostedForm = Annotated[Posted, Depends(posted_form)]


def signed_in_member(request: Request) -> MemberCaller | None:
    """The member whose session cookie this is, if it is live.

    Read in a session of its own, as the API reads who is asking: on SQLite a unit of work
    that has read cannot then wait for the write lock (``claim_write_lock``), and the page's
    unit of work may write.
    """
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    token = unsign_cookie(cookie, state_of(request).cookie_key)
    if token is None:
        return None
    with state_of(request).sessions() as own:
        member_id = accounts.session_member(AccountsRepository(own), token, now())
    return None if member_id is None else MemberCaller(member_id=member_id, token=token)


def key_from_cookie(request: Request) -> str | None:
    cookie = request.cookies.get(KEY_COOKIE)
    if not cookie:
        return None
    return open_key(cookie, state_of(request).settings.personal_data_key)


def signed_in_holder(request: Request, db: Session) -> tuple[KeyHolder, str] | None:
    """The partner or auditor signed in to the pages with an API key, and that key."""
    key = key_from_cookie(request)
    if key is None:
        return None
    holder = accounts.key_holder(AccountsRepository(db), key)
    return None if holder is None else (holder, key)
