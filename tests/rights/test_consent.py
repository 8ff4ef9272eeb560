"""Consent grants: granted, narrowed, revoked; pseudonyms per partner; reads logged once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.api.world import World, build_world


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def _later(days: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()


def _member(world: World, method: str, path: str, body: Any = None) -> Any:
    return world.client.request(method, path, json=body, headers=world.headers("member"))


def _read(world: World, partner: str = "right", purpose: str = "lending") -> Any:
    pseudonym = world.pseudonyms[partner]
    return world.client.get(
        f"/v1/standing/{pseudonym}?purpose={purpose}",
        headers=world.headers(f"partner_{partner.replace('-', '_')}"),
    )


class TestGrants:
    def test_a_grant_defaults_to_the_answer_level_and_issues_a_pseudonym(
        self, world: World
    ) -> None:
        body = {"partner_id": "no-grant", "purpose": "tenancy", "expires_at": _later(5)}
        made = _member(world, "POST", "/v1/me/consents", body)
        assert made.status_code == 201
        grant = made.json()
        assert (grant["level"], grant["status"], grant["partner_id"]) == (
            "answer",
            "active",
            "no-grant",
        )
        assert grant["pseudonym"].startswith("psn_")
        assert grant["pseudonym"] != world.pseudonyms["right"]

    def test_a_partner_keeps_one_pseudonym_across_grants(self, world: World) -> None:
        body = {"partner_id": "right", "purpose": "tenancy", "expires_at": _later(5)}
        made = _member(world, "POST", "/v1/me/consents", body).json()
        assert made["pseudonym"] == world.pseudonyms["right"]

    @pytest.mark.parametrize(
        ("expires", "message"),
        [(-1, "must be in the future"), (400, "may be at most")],
    )
    def test_an_expiry_out_of_range_is_refused(
        self, world: World, expires: float, message: str
    ) -> None:
        body = {"partner_id": "right", "purpose": "tenancy", "expires_at": _later(expires)}
        refused = _member(world, "POST", "/v1/me/consents", body)
        assert refused.status_code == 422
        assert message in refused.json()["detail"]

    def test_a_new_grant_supersedes_the_live_one_for_the_same_purpose(self, world: World) -> None:
        body = {"partner_id": "right", "purpose": "lending", "level": "band"}
        made = _member(world, "POST", "/v1/me/consents", body | {"expires_at": _later(3)})
        statuses = {
            g["grant_id"]: g["status"] for g in _member(world, "GET", "/v1/me/consents").json()
        }
        assert statuses[world.grants["right"]] == "revoked"
        assert statuses[made.json()["grant_id"]] == "active"
        assert _read(world).json()["standing"]["band"] == "good"

    def test_an_unknown_partner_is_not_found(self, world: World) -> None:
        body = {"partner_id": "nobody", "purpose": "lending", "expires_at": _later(3)}
        assert _member(world, "POST", "/v1/me/consents", body).status_code == 404


class TestNarrowing:
    def test_a_level_can_only_go_down(self, world: World) -> None:
        path = f"/v1/me/consents/{world.grants['right']}"
        widened = _member(world, "PATCH", path, {"level": "score"})
        assert widened.status_code == 422
        assert "wider than answer" in widened.json()["detail"]

    def test_an_expiry_can_only_come_forward(self, world: World) -> None:
        path = f"/v1/me/consents/{world.grants['right']}"
        assert _member(world, "PATCH", path, {"expires_at": _later(60)}).status_code == 422
        earlier = _member(world, "PATCH", path, {"expires_at": _later(1)})
        assert earlier.status_code == 200
        assert earlier.json()["expires_at"][:10] == _later(1)[:10]

    def test_a_revoked_grant_cannot_be_narrowed_or_revoked_again(self, world: World) -> None:
        path = f"/v1/me/consents/{world.grants['right']}"
        assert _member(world, "DELETE", path).json()["status"] == "revoked"
        assert _member(world, "DELETE", path).status_code == 409
        assert _member(world, "PATCH", path, {"level": "answer"}).status_code == 409


class TestReads:
    def test_revocation_stops_reads_at_once(self, world: World) -> None:
        assert _read(world).status_code == 200
        _member(world, "DELETE", f"/v1/me/consents/{world.grants['right']}")
        refused = _read(world)
        assert refused.status_code == 403
        assert refused.json()["code"] == "consent_required"

    def test_each_read_is_logged_once_with_what_was_answered(self, world: World) -> None:
        _read(world)
        _read(world, purpose="tenancy")  # refused: no grant for tenancy, so not logged
        log = _member(world, "GET", "/v1/me/access-log").json()["entries"]
        assert [(e["purpose"], e["level"], e["answered"]) for e in log] == [
            ("lending", "answer", "meets threshold 600")
        ]

    def test_a_member_without_a_score_is_answered_and_logged_as_such(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        world = build_world(engine, tmp_path, seed_score=False)
        body = _read(world).json()
        assert (body["standing"], body["attestation"]) == (None, None)
        log = _member(world, "GET", "/v1/me/access-log").json()["entries"]
        assert [e["answered"] for e in log] == ["no score yet"]

    def test_the_attestation_verifies_online_for_its_partner_only(self, world: World) -> None:
        token = _read(world).json()["attestation"]
        ok = world.client.post(
            "/v1/attestations/verify", json={"token": token, "audience": "right"}
        ).json()
        assert ok["valid"] is True
        assert ok["claims"]["sub"] == world.pseudonyms["right"]
        other = world.client.post(
            "/v1/attestations/verify", json={"token": token, "audience": "revoked"}
        ).json()
        assert (other["valid"], other["reason"]) == (
            False,
            "claim not accepted: Invalid claim: 'aud'",
        )
