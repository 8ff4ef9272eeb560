"""Every endpoint against every kind of caller: the exact status, and nothing leaking."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import Engine

from tests.api.world import MEMBER, SCORE, World, build_world

PARTNERS = [f"partner_{s}" for s in ("no_grant", "wrong_purpose", "expired", "revoked", "right")]
# The member comes last: some of their calls end the session or revoke a grant.
CALLERS = ["anonymous", "other_member", *PARTNERS, "operator", "auditor", "member"]
#: Who may see Alice's member id at all: Alice, and auditors reading the access log.
MAY_SEE_MEMBER_ID = {"member", "auditor"}
CODES = {401: {"not_authenticated"}, 403: {"forbidden", "consent_required"}, 404: {"not_found"}}
CODES |= {409: {"conflict"}, 422: {"invalid"}}

Request = Callable[[World, str], tuple[str, str, Any]]


def _members_only(member: int, other: int) -> dict[str, int]:
    expected = dict.fromkeys(CALLERS, 403)
    return expected | {"anonymous": 401, "member": member, "other_member": other}


def _only(caller: str, status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, 403) | {"anonymous": 401, caller: status}


def _everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


def _partner_slug(caller: str) -> str:
    return caller.removeprefix("partner_").replace("_", "-")


def _grant_body(world: World, caller: str) -> dict[str, Any]:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    return {"partner_id": "right", "purpose": "tenancy", "expires_at": later.isoformat()}


def _standing(world: World, caller: str) -> tuple[str, str, Any]:
    pseudonym = world.pseudonyms.get(_partner_slug(caller), world.pseudonyms["right"])
    return "GET", f"/v1/standing/{pseudonym}?purpose=lending", None


def _events(world: World, caller: str) -> tuple[str, str, Any]:
    pseudonym = world.pseudonyms.get(_partner_slug(caller), world.pseudonyms["right"])
    event = {
        "schema_version": 1,
        "event_id": f"fb-{caller}",
        "type": "partner_feedback",
        "member_id": pseudonym,
        "occurred_at": "2025-01-02T10:00:00Z",
        "polarity": "positive",
        "topic": "payment",
        "evidence_ref": "ticket-1",
    }
    return "POST", "/v1/events", {"events": [event]}


STANDING = dict.fromkeys(CALLERS, 403) | {
    "anonymous": 401,
    "partner_no_grant": 404,
    "partner_right": 200,
}
EVENTS = dict.fromkeys(CALLERS, 403) | {"anonymous": 401, "partner_no_grant": 422}
EVENTS |= dict.fromkeys(PARTNERS[1:], 200)
PARTNER_LIST = dict.fromkeys(CALLERS, 200) | {"anonymous": 401} | dict.fromkeys(PARTNERS, 403)

ENDPOINTS: dict[str, tuple[Request, dict[str, int]]] = {
    "me": (lambda w, c: ("GET", "/v1/me", None), _members_only(200, 200)),
    "my score": (lambda w, c: ("GET", "/v1/me/score", None), _members_only(200, 404)),
    "my history": (lambda w, c: ("GET", "/v1/me/score/history", None), _members_only(200, 200)),
    "what-if": (
        lambda w, c: ("POST", "/v1/me/what-if", {"changes": {"on_time_share_12m": 1.0}}),
        _members_only(409, 409),
    ),
    "my consents": (lambda w, c: ("GET", "/v1/me/consents", None), _members_only(200, 200)),
    "grant": (
        lambda w, c: ("POST", "/v1/me/consents", _grant_body(w, c)),
        _members_only(201, 201),
    ),
    "narrow": (
        lambda w, c: ("PATCH", f"/v1/me/consents/{w.grants['right']}", {"level": "answer"}),
        _members_only(200, 404),
    ),
    "revoke": (
        lambda w, c: ("DELETE", f"/v1/me/consents/{w.grants['right']}", None),
        _members_only(200, 404),
    ),
    "access log": (lambda w, c: ("GET", "/v1/me/access-log", None), _members_only(200, 200)),
    "sign out": (
        lambda w, c: ("DELETE", "/v1/sessions/current", None),
        _members_only(204, 204),
    ),
    "standing": (_standing, STANDING),
    "events": (_events, EVENTS),
    "partners": (lambda w, c: ("GET", "/v1/partners", None), PARTNER_LIST),
    "audit log": (lambda w, c: ("GET", "/v1/audit/access-log", None), _only("auditor", 200)),
    "rotate": (lambda w, c: ("POST", "/v1/signing-keys/rotate", None), _only("operator", 200)),
    "jwks": (lambda w, c: ("GET", "/.well-known/jwks.json", None), _everyone(200)),
    "verify": (
        lambda w, c: ("POST", "/v1/attestations/verify", {"token": "a.b.c"}),
        _everyone(200),
    ),
    "ping": (lambda w, c: ("GET", "/v1/ping", None), _everyone(200)),
    "sign in": (
        lambda w, c: ("POST", "/v1/sessions", {"member_id": MEMBER, "password": "wrong pass"}),
        _everyone(401),
    ),
}


def test_the_matrix_covers_every_route(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path)
    # FastAPI keeps included routers as branches of app.routes; iter_route_contexts walks
    # them (app.routes alone lists only /v1/ping, and this check would pass vacuously).
    api_routes = [
        route
        for route in iter_route_contexts(world.app.routes)
        if isinstance(route.original_route, APIRoute) and route.original_route.include_in_schema
    ]
    assert len(api_routes) == len(ENDPOINTS)
    covered = set()
    for request, _ in ENDPOINTS.values():
        method, path, _body = request(world, "partner_right")
        for route in api_routes:
            if method in route.methods and route.path_regex.match(path.split("?")[0]):
                covered.add((method, route.path))
    everything = {(m, route.path) for route in api_routes for m in route.methods}
    assert everything - covered == set()


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_caller_gets_exactly_its_status(
    engine: Engine, tmp_path: Path, endpoint: str
) -> None:
    world = build_world(engine, tmp_path)
    request, expected = ENDPOINTS[endpoint]
    got: dict[str, int] = {}
    for caller in CALLERS:
        method, path, body = request(world, caller)
        response = world.client.request(method, path, json=body, headers=world.headers(caller))
        got[caller] = response.status_code
        text = response.text
        if caller not in MAY_SEE_MEMBER_ID:
            assert MEMBER not in text, (caller, text)
        if response.status_code >= 400:
            problem = response.json()
            assert response.headers["content-type"] == "application/problem+json"
            assert problem["status"] == response.status_code
            assert problem["code"] in CODES[response.status_code], problem
            # As a number of its own: random ids (cg_c2713...) may hold the digits by chance.
            assert not re.search(rf"(?<![0-9A-Za-z_]){SCORE}(?![0-9A-Za-z_])", text), text
    assert got == expected


def test_an_answer_level_grant_reveals_only_yes_or_no(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path)
    _method, path, _ = _standing(world, "partner_right")
    body = world.client.get(path, headers=world.headers("partner_right")).json()
    assert body["level"] == "answer"
    shown = {k: v for k, v in body["standing"].items() if v is not None}
    assert shown == {"level": "answer", "threshold": 600, "meets_threshold": True}
    assert str(SCORE) not in str(body["standing"])
    assert body["pseudonym"] == world.pseudonyms["right"]
