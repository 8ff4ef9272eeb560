"""The pages over HTTP without a browser: redirects, CSRF, headers, static files, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from openscore.api.app import create_app
from openscore.config import Settings
from openscore.web.common import CONTENT_SECURITY_POLICY
from openscore.web.templating import PLOTLY_JS, static_url
from tests.web.world import PASSWORD, World

pytestmark = pytest.mark.xdist_group("web")


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=world.data_dir))) as opened:
        yield opened


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def signed_in(client: TestClient, member: str) -> TestClient:
    token = csrf(client, "/signin")
    answer = client.post(
        "/signin",
        data={"member_id": member, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/me"
    return client


class TestSignIn:
    @pytest.mark.parametrize("path", ["/me", "/me/consents", "/me/access", "/me/records"])
    def test_member_pages_need_a_session(self, client: TestClient, path: str) -> None:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/signin?next={path}"

    def test_wrong_password(self, client: TestClient, world: World) -> None:
        token = csrf(client, "/signin")
        answer = client.post(
            "/signin", data={"member_id": world.weak, "password": "nope", "csrf_token": token}
        )
        assert answer.status_code == 401
        assert "member id or password is wrong" in answer.text
        assert world.weak in answer.text  # the id stays filled in

    def test_no_csrf_token_no_sign_in(self, client: TestClient, world: World) -> None:
        client.get("/signin")
        answer = client.post("/signin", data={"member_id": world.weak, "password": PASSWORD})
        assert answer.status_code == 400
        assert "security token is missing" in answer.text
        assert "openscore_session" not in answer.cookies

    @pytest.mark.parametrize(
        "target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"]
    )
    def test_next_never_leaves_the_site(
        self, client: TestClient, world: World, target: str
    ) -> None:
        token = csrf(client, "/signin")
        answer = client.post(
            "/signin",
            data={
                "member_id": world.weak,
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/me"

    def test_sign_out_ends_the_session(self, client: TestClient, world: World) -> None:
        signed_in(client, world.weak)
        token = csrf(client, "/me/records")
        cookie = client.cookies.get("openscore_session")
        assert (
            client.post("/signout", data={"csrf_token": token}, follow_redirects=False).status_code
            == 303
        )
        client.cookies.set("openscore_session", str(cookie))  # replaying the old cookie
        assert client.get("/me", follow_redirects=False).status_code == 303


class TestMemberPages:
    def test_headers(self, client: TestClient, world: World) -> None:
        answer = signed_in(client, world.weak).get("/me")
        assert answer.status_code == 200
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["cache-control"] == "no-store"
        assert "<script>" not in answer.text  # no inline script anywhere

    def test_whatif_json(self, client: TestClient, world: World) -> None:
        page = signed_in(client, world.weak).get("/me").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        name = re.search(r'name="set\.([a-z0-9_]+)"', page).group(1)  # type: ignore[union-attr]
        answer = client.post("/me/what-if.json", data={"csrf_token": token, f"set.{name}": "zero"})
        assert answer.status_code == 422
        assert answer.json()["error"].endswith("'zero' is not a number")
        answer = client.post("/me/what-if.json", data={"csrf_token": token})
        assert answer.status_code == 200
        shown = re.search(r'id="score-number">(\d+)<', page).group(1)  # type: ignore[union-attr]
        assert answer.json()["score"] == int(shown) and answer.json()["delta"] == 0

    def test_whatif_json_needs_the_token(self, client: TestClient, world: World) -> None:
        signed_in(client, world.weak)
        answer = client.post("/me/what-if.json", data={})
        assert answer.status_code == 403

    def test_records_page(self, client: TestClient, world: World) -> None:
        text = signed_in(client, world.weak).get("/me/records").text
        found = re.search(r"\d+ records?; page 1 of (\d+)", text)
        assert found is not None
        # Newest first: the enrolment is on the last page, its type in words.
        last = client.get(f"/me/records?page={found.group(1)}").text
        assert "Member enrolled" in last
        assert "member_enrolled" not in last

    def test_revoking_someone_elses_grant(self, client: TestClient, world: World) -> None:
        signed_in(client, world.weak)
        token = csrf(client, "/me/consents")
        answer = client.post("/me/consents/cg_nothing/revoke", data={"csrf_token": token})
        assert answer.status_code == 404
        assert "you have no grant" in answer.text

    def test_narrow_but_never_widen(self, client: TestClient, world: World) -> None:
        signed_in(client, world.strong)
        token = csrf(client, "/me/consents")
        form = {"csrf_token": token, "partner_id": world.partner_id, "purpose": "tenancy"}
        answer = client.post(
            "/me/consents", data={**form, "level": "score", "expires_on": "2099-01-01"}
        )
        assert answer.status_code == 422  # more than a year ahead
        assert "expires_at may be at most" in answer.text
        page = client.get("/me/consents").text
        expiry = re.search(
            r'id="expires_on" name="expires_on" type="date" required value="([^"]+)"', page
        )
        assert expiry is not None
        answer = client.post(
            "/me/consents", data={**form, "level": "score", "expires_on": expiry.group(1)}
        )
        assert "Consent granted." in answer.text
        grant = re.search(
            r'data-grant="(cg_[0-9a-f]+)" data-partner="acme-bank" data-status="active">\s*'
            r"<h3>Acme Bank · Tenancy",
            answer.text,
        )
        assert grant is not None
        narrowed = client.post(
            f"/me/consents/{grant.group(1)}/narrow", data={"csrf_token": token, "level": "band"}
        )
        assert "Consent narrowed." in narrowed.text
        card = narrowed.text.split(f'data-grant="{grant.group(1)}"')[1].split("</li>")[0]
        assert "They learn: <strong>My band (e.g. Good)</strong>" in card
        widened = client.post(
            f"/me/consents/{grant.group(1)}/narrow", data={"csrf_token": token, "level": "score"}
        )
        assert widened.status_code == 422
        assert "wider than band" in widened.text

    def test_grant_refuses_a_past_expiry(self, client: TestClient, world: World) -> None:
        signed_in(client, world.weak)
        token = csrf(client, "/me/consents")
        answer = client.post(
            "/me/consents",
            data={
                "csrf_token": token,
                "partner_id": world.partner_id,
                "purpose": "lending",
                "level": "answer",
                "expires_on": "2020-01-01",
            },
        )
        assert answer.status_code == 422
        assert "expires_at must be in the future" in answer.text


class TestStatic:
    def test_plotly_from_the_package(self, client: TestClient) -> None:
        answer = client.get(static_url("plotly.min.js"))
        assert answer.status_code == 200
        assert answer.content == PLOTLY_JS.read_bytes()
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.headers["content-encoding"] == "gzip"

    @pytest.mark.parametrize("name", ["..%2Fpages.py", "nothing.css", ".hidden"])
    def test_only_served_files(self, client: TestClient, name: str) -> None:
        assert client.get(f"/static/0.1.0/{name}").status_code == 404


class TestPartnerAndAuditor:
    def test_wrong_key(self, client: TestClient) -> None:
        token = csrf(client, "/partner")
        answer = client.post("/partner/signin", data={"csrf_token": token, "api_key": "osk_no"})
        assert answer.status_code == 401
        assert "not a live partner API key" in answer.text

    def test_auditor_key_is_not_a_partner_key(self, client: TestClient, world: World) -> None:
        token = csrf(client, "/partner")
        answer = client.post(
            "/partner/signin", data={"csrf_token": token, "api_key": world.auditor_key}
        )
        assert answer.status_code == 401

    def test_standing_needs_a_partner(self, client: TestClient) -> None:
        token = csrf(client, "/partner")
        answer = client.post(
            "/partner/standing",
            data={"csrf_token": token, "pseudonym": "psn_x", "purpose": "lending"},
        )
        assert answer.status_code == 401
        assert "Sign in with your API key first" in answer.text

    def test_garbage_attestation(self, client: TestClient) -> None:
        token = csrf(client, "/partner")
        answer = client.post("/partner/verify", data={"csrf_token": token, "token": "a.b.c"})
        assert answer.status_code == 200
        assert "Not valid:" in answer.text

    def test_model_card_needs_an_auditor(self, client: TestClient, world: World) -> None:
        assert "Sign in with your auditor key" in client.get("/auditor").text
        token = csrf(client, "/auditor")
        client.post("/auditor/signin", data={"csrf_token": token, "api_key": world.auditor_key})
        text = client.get("/auditor").text
        assert "How well it separates" in text
        assert re.search(r"Model <span class=\"mono\">sc-\d{8}T\d{6}Z-[0-9a-f]{8}</span>", text)
