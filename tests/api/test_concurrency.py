"""Many writers at once: the service never wedges on its own write lock.

On SQLite the service's writers take turns on one in-process lock (``claim_write_lock``),
held until their unit of work commits. Requests waiting for that lock hold threads of the
pool; if the holder then needed a thread of the same pool to finish (FastAPI validates a
plain endpoint's response in the pool), or the event loop itself waited for the lock, every
writer would wait forever. These tests shrink the pool so that a handful of concurrent
requests is enough to show it, and fail (rather than hang) when the service does not answer.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import Engine, text

from openscore.api.app import create_app
from openscore.api.deps import UnitOfWorkRoute, get_session
from openscore.web.security import CSRF_COOKIE, CSRF_FIELD, KEY_COOKIE, seal_key
from tests.api.world import World, build_world, settings_for

#: Threads in the pool while the test runs, and concurrent requests: four times as many.
POOL, REQUESTS = 4, 16
#: How long the requests may take in all before the service is declared wedged.
PATIENCE = 60.0


def _within_patience(
    work: Callable[[httpx.AsyncClient], Awaitable[list[int]]], world: World
) -> list[int]:
    """Run ``work`` against the app on a loop of its own with a small thread pool.

    The loop runs in a daemon thread: if the service wedges, its threads stay blocked for
    good, and only a thread that can be left behind keeps the test from hanging with them.
    """
    outcome: dict[str, Any] = {}

    async def main() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = POOL
        transport = httpx.ASGITransport(app=world.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            outcome["statuses"] = await work(client)

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # reported by the test's thread below
            outcome["error"] = error

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(PATIENCE)
    assert not runner.is_alive(), (
        f"{REQUESTS} concurrent requests got no answers in {PATIENCE:.0f} s"
    )
    if "error" in outcome:
        raise outcome["error"]
    statuses: list[int] = outcome["statuses"]
    return statuses


def test_many_partner_standing_queries_at_once_all_answer(engine: Engine, tmp_path: Path) -> None:
    world = build_world(engine, tmp_path)
    pseudonym = world.pseudonyms["right"]
    headers = world.headers("partner_right")

    async def ask(client: httpx.AsyncClient) -> list[int]:
        async def one() -> int:
            answer = await client.get(f"/v1/standing/{pseudonym}?purpose=lending", headers=headers)
            return answer.status_code

        return list(await asyncio.gather(*(one() for _ in range(REQUESTS))))

    assert _within_patience(ask, world) == [200] * REQUESTS
    assert _logged(world) == REQUESTS


def _logged(world: World) -> int:
    with world.session() as session:
        count: int = session.execute(text("SELECT count(*) FROM access_log")).scalar_one()
    return count


def test_a_page_asking_for_standing_among_partner_queries_all_answer(
    engine: Engine, tmp_path: Path
) -> None:
    """The pages write through the same lock; they must not wait for it on the event loop."""
    world = build_world(engine, tmp_path)
    pseudonym = world.pseudonyms["right"]
    headers = world.headers("partner_right")
    settings = world.app.state.service.settings
    cookies = {
        CSRF_COOKIE: "token-of-the-test",
        KEY_COOKIE: seal_key(world.keys["partner_right"], settings.personal_data_key),
    }
    form = {CSRF_FIELD: "token-of-the-test", "pseudonym": pseudonym, "purpose": "lending"}
    pages = REQUESTS // 4

    async def ask(client: httpx.AsyncClient) -> list[int]:
        async def by_api() -> int:
            answer = await client.get(f"/v1/standing/{pseudonym}?purpose=lending", headers=headers)
            return answer.status_code

        async def by_page() -> int:
            answer = await client.post("/partner/standing", data=form, cookies=cookies)
            return answer.status_code

        asked = [by_api() for _ in range(REQUESTS - pages)] + [by_page() for _ in range(pages)]
        return list(await asyncio.gather(*asked))

    assert _within_patience(ask, world) == [200] * REQUESTS
    assert _logged(world) == REQUESTS


def _takes_a_unit_of_work(dependant: Dependant) -> bool:
    return any(d.call is get_session or _takes_a_unit_of_work(d) for d in dependant.dependencies)


def test_every_endpoint_with_a_unit_of_work_is_plain_and_finishes_it_in_its_thread(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    app = create_app(settings_for(tmp_path), engine=sqlite_engine)
    routes = [
        r.original_route
        for r in iter_route_contexts(app.routes)
        if isinstance(r.original_route, APIRoute)
    ]
    with_a_session = [r for r in routes if _takes_a_unit_of_work(r.dependant)]
    assert len(with_a_session) > 30
    coroutines = [r.path for r in with_a_session if inspect.iscoroutinefunction(r.endpoint)]
    assert coroutines == [], "these would do the store's blocking I/O on the event loop"
    others = [r.path for r in with_a_session if not isinstance(r, UnitOfWorkRoute)]
    assert others == [], "these would commit only after FastAPI's response validation"
