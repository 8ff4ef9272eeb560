"""CSRF tokens and the sealed key cookie."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from starlette.requests import Request

from openscore.web import security
from openscore.web.security import CSRF_COOKIE, CsrfRejected, check_csrf, open_key, seal_key


def request(cookie: str | None = None, origin: str | None = None) -> Request:
    headers: list[tuple[bytes, bytes]] = [(b"host", b"127.0.0.1:8000")]
    if cookie is not None:
        headers.append((b"cookie", f"{CSRF_COOKIE}={cookie}".encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": "/me/consents",
        "server": ("127.0.0.1", 8000),
        "headers": headers,
        "query_string": b"",
    }
    return Request(scope)


TOKEN = "t" * 43


class TestCsrf:
    def test_matching_token_passes(self) -> None:
        check_csrf(request(TOKEN, "http://127.0.0.1:8000"), {"csrf_token": TOKEN})

    @pytest.mark.parametrize(
        ("cookie", "form"),
        [(None, {"csrf_token": TOKEN}), (TOKEN, {}), (TOKEN, {"csrf_token": "u" * 43})],
    )
    def test_missing_or_wrong_token(self, cookie: str | None, form: dict[str, str]) -> None:
        with pytest.raises(CsrfRejected, match="security token is missing or out of date"):
            check_csrf(request(cookie), form)

    def test_other_origin(self) -> None:
        with pytest.raises(CsrfRejected, match=r"came from https://evil\.example"):
            check_csrf(request(TOKEN, "https://evil.example"), {"csrf_token": TOKEN})

    def test_a_new_visitor_gets_a_token_once(self) -> None:
        fresh = request()
        token = security.csrf_token(fresh)
        assert len(token) >= 32
        assert security.csrf_token(fresh) == token
        assert security.csrf_token(request(TOKEN)) == TOKEN


class TestKeyCookie:
    def test_round_trip(self) -> None:
        platform = Fernet.generate_key()
        sealed = seal_key("osk_secret", platform)
        assert "osk_secret" not in sealed
        assert open_key(sealed, platform) == "osk_secret"

    def test_other_platform_key_or_tampering(self) -> None:
        platform = Fernet.generate_key()
        sealed = seal_key("osk_secret", platform)
        assert open_key(sealed, Fernet.generate_key()) is None
        flipped = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
        assert open_key(flipped, platform) is None
        assert open_key("garbage", platform) is None
