"""Partners and auditors sign in to the pages with their API key (kept in a sealed cookie)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from openscore.accounts import service as accounts
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import Role
from openscore.api.deps import DbSession
from openscore.errors import DomainError
from openscore.web.common import Posted, redirect, state_of
from openscore.web.security import KEY_COOKIE, KEY_COOKIE_LIFETIME, CsrfRejected, seal_key


class KeySignInFailed(Exception):
    """The key was refused; ``status`` is the page's HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def sign_in_with_key(
    request: Request, db: DbSession, posted: Posted, role: Role, then: str
) -> Response:
    """Check the posted key is a live key of ``role`` and remember it; raises when not."""
    try:
        form = posted.checked()
    except CsrfRejected as problem:
        raise KeySignInFailed(str(problem), 400) from None
    key = str(form.get("api_key", "")).strip()
    client = request.client.host if request.client else "unknown"
    try:
        state_of(request).limits.check("sign_in", f"{client}|{role.value}-key")
    except DomainError as problem:
        raise KeySignInFailed(problem.detail, problem.status) from None
    holder = accounts.key_holder(AccountsRepository(db), key)
    if holder is None or holder.role is not role:
        raise KeySignInFailed(f"That is not a live {role.value} API key.", 401)
    response = redirect(then)
    response.set_cookie(
        KEY_COOKIE,
        seal_key(key, state_of(request).settings.personal_data_key),
        max_age=KEY_COOKIE_LIFETIME,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def sign_out_key(posted: Posted, then: str) -> Response:
    try:
        posted.checked()
    except CsrfRejected:
        return redirect(then)
    response = redirect(then)
    response.delete_cookie(KEY_COOKIE, path="/")
    return response
