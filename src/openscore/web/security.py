"""What keeps the pages' forms and sessions safe: CSRF tokens and the key-holder cookie.

CSRF: every form carries a token equal to a random value in an HttpOnly, SameSite=Strict
cookie (the "double submit" pattern), compared in constant time; a cross-site page can
neither read the cookie nor make the browser send it. An ``Origin`` header, when present,
must also be this site's.

Partners and auditors sign in to the pages with their API key. The key goes into a cookie
encrypted (and authenticated) with Fernet under a key derived from the platform's key, and
expires after :data:`KEY_COOKIE_LIFETIME`; the pages decrypt it per request and look the key
up exactly as the API does, so revoking the key ends the page session too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request
from starlette.responses import Response

CSRF_COOKIE = "openscore_csrf"
CSRF_FIELD = "csrf_token"
KEY_COOKIE = "openscore_key"
#: How long a partner or auditor stays signed in to the pages.
KEY_COOKIE_LIFETIME = 8 * 3600


class CsrfRejected(Exception):
    """A state-changing form arrived without this site's token (or from another origin)."""


def csrf_token(request: Request) -> str:
    """The token forms on this response carry: the cookie's, or a new one (then set it)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing
    token: str | None = getattr(request.state, "new_csrf_token", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf_token = token
    return token


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Set the CSRF cookie if this request minted a token."""
    token = getattr(request.state, "new_csrf_token", None)
    if token is not None:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


def check_csrf(request: Request, form: Mapping[str, object]) -> None:
    """Refuse a form whose token does not match the cookie, or that comes from elsewhere."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin != expected:
            raise CsrfRejected(f"the form came from {origin}, not from {expected}")
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = form.get(CSRF_FIELD)
    if not cookie or not isinstance(sent, str) or not hmac.compare_digest(cookie, sent):
        raise CsrfRejected("the form's security token is missing or out of date; reload the page")


def _fernet(platform_key: bytes) -> Fernet:
    derived = hmac.new(platform_key, b"openscore page key cookie v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal_key(api_key: str, platform_key: bytes) -> str:
    """An API key as the cookie stores it (encrypted, authenticated, time-stamped)."""
    return _fernet(platform_key).encrypt(api_key.encode()).decode()


def open_key(cookie: str, platform_key: bytes) -> str | None:
    """The API key in a cookie, or None when forged, altered or older than its lifetime."""
    try:
        return _fernet(platform_key).decrypt(cookie.encode(), ttl=KEY_COOKIE_LIFETIME).decode()
    except (InvalidToken, ValueError):
        return None
