"""``demo --check``: the running service answers a member, a partner and a verifier.

Each check is one step with a name, so a failure says which; the checks go over real HTTP
to a server on a loopback port, as a member's browser and a partner's client would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from openscore.demo.cast import DemoCast
from openscore.demo.pipeline import DemoStepFailed


@contextmanager
def running(app: Any, host: str, port: int, timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` in a thread for the block's duration; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="demo-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DemoStepFailed("serve", f"the service did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


def _expect(step: str, response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise DemoStepFailed(
            step,
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, not {status}: {response.text[:300]}",
        )
    return response.json() if "json" in response.headers.get("content-type", "") else None


def check_service(base: str, cast: DemoCast) -> list[str]:
    """Run every check; returns what each showed. Raises DemoStepFailed naming the first
    that fails."""
    shown: list[str] = []
    member = cast.members[0]
    with httpx.Client(base_url=base, timeout=30.0) as client:
        keys = _expect("published keys", client.get("/.well-known/jwks.json"))
        if not keys or not keys.get("keys"):
            raise DemoStepFailed("published keys", "the key set is empty")
        shown.append(f"published keys: {len(keys['keys'])} signing key(s)")

        _expect(
            "member sign-in",
            client.post(
                "/v1/sessions", json={"member_id": member.member_id, "password": member.password}
            ),
            201,
        )
        page = client.get("/me")
        _expect("member page", page)
        if str(member.score) not in page.text or "gauge" not in page.text:
            raise DemoStepFailed("member page", "the dashboard shows no score gauge")
        shown.append(f"member page: {member.member_id} sees {member.score} ({member.band})")

    with httpx.Client(
        base_url=base, timeout=30.0, headers={"Authorization": f"Bearer {cast.partner_key}"}
    ) as partner:
        standing = _expect(
            "partner query",
            partner.get(f"/v1/standing/{member.pseudonym}", params={"purpose": member.purpose}),
        )
        token = standing.get("attestation")
        if not token:
            raise DemoStepFailed("partner query", "the answer carries no attestation")
        shown.append(f"partner query: {member.level} answer {standing.get('standing')}")

        verified = _expect(
            "attestation",
            partner.post(
                "/v1/attestations/verify", json={"token": token, "audience": cast.partner_id}
            ),
        )
        if not verified.get("valid"):
            raise DemoStepFailed("attestation", f"not valid: {verified.get('reason')}")
        shown.append(f"attestation: valid, signed with key {verified.get('kid')}")
    return shown
