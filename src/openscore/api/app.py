"""The app factory: one FastAPI app over the configured store, with every domain's router."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from openscore.accounts.endpoints import router as accounts_router
from openscore.accounts.secrets import cookie_key
from openscore.api.deps import ServiceState, partner_key_cache
from openscore.api.problems import install_problem_handlers
from openscore.api.ratelimit import RateLimits
from openscore.attest import service as attest
from openscore.attest.endpoints import router as attest_router
from openscore.attest.repository import SigningKeysRepository
from openscore.attest.service import KeyRing
from openscore.config import Settings
from openscore.db.engine import make_engine, upgrade
from openscore.partners.endpoints import router as partners_router
from openscore.rights.endpoints import router as rights_router
from openscore.scoring import registry
from openscore.scoring.artefact import ScorecardArtefact
from openscore.standing.backlog import RescoringBacklog
from openscore.standing.desk import StandingDesk
from openscore.standing.endpoints import router as standing_router
from openscore.standing.rescoring import ChampionLoader, Rescorer
from openscore.web.pages import router as pages_router


def settle_for_serving() -> None:
    """Ready a process that is about to serve: compile what every rescoring compiles once
    (the online feature plan and the evidence queries), then freeze the heap.

    A loaded service holds over a million long-lived objects (Ibis, SQLAlchemy, Pydantic,
    the compiled plans), and every full collection of Python's cyclic garbage collector
    walks them all: about 100 ms, landing on whichever request allocated last, which was
    most of the p99 of an event's rescoring. Frozen objects are left out of collections
    (``gc.freeze``), so those pauses fall to about 10 ms. Called by ``openscore serve`` and
    the demo before uvicorn starts, not by ``create_app``: tests create many apps.
    """
    from openscore.features.explain import EVIDENCE
    from openscore.features.online import online_query
    from openscore.standing.evidence import evidence_query, valid_query

    for part in ("whole", "own", "connections"):
        online_query(part)
    valid_query()
    for feature in EVIDENCE:
        evidence_query(feature)
    gc.collect()
    gc.freeze()


def registry_champion(settings: Settings) -> ChampionLoader:
    """The champion of the model registry in the data directory, or None if there is none."""

    def load() -> ScorecardArtefact | None:
        return registry.champion(registry.models_dir(settings))

    return load


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    champion: ChampionLoader | None = None,
) -> FastAPI:
    """The service over ``settings``' store (schema brought up to date), ready for uvicorn.

    ``engine`` and ``champion`` replace the configured store and the registry's champion
    (tests and benchmarks use them).
    """
    # Each request may hold two connections (who is asking, then its unit of work) and the
    # thread pool runs forty requests at once.
    engine = engine or make_engine(settings.resolved_database_url, pool_size=20, max_overflow=60)
    upgrade(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as session:
        attest.ensure_key(
            SigningKeysRepository(session), settings.personal_data_key, dt.datetime.now(dt.UTC)
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.service.desk.close()
        app.state.service.backlog.close()
        app.state.service.rescorer.close()

    app = FastAPI(
        lifespan=lifespan,
        title="OpenScore",
        version="1",
        summary="Consent-gated standing, signed attestations, members' own scores and rights.",
    )
    rescorer = Rescorer(champion or registry_champion(settings))
    writers = threading.Lock()
    key_ring = KeyRing(settings.personal_data_key)
    app.state.service = ServiceState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        key_ring=key_ring,
        limits=RateLimits(
            {
                "sign_in": settings.rate_limit_sign_in,
                "partner": settings.rate_limit_partner,
                "verify": settings.rate_limit_verify,
            }
        ),
        rescorer=rescorer,
        cookie_key=cookie_key(settings.personal_data_key),
        writers=writers,
        backlog=RescoringBacklog(sessions, writers, rescorer),
        desk=StandingDesk(sessions, writers, key_ring),
        partner_keys=partner_key_cache(),
    )
    install_problem_handlers(app)
    for router in (
        standing_router,
        partners_router,
        accounts_router,
        rights_router,
        attest_router,
        pages_router,
    ):
        app.include_router(router)

    @app.get("/v1/ping", tags=["service"])
    async def ping() -> dict[str, bool]:
        """A constant: the service is up (and the bare limit of its throughput)."""
        return {"ok": True}

    return app
