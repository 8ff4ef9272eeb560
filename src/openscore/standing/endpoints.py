"""Members read their own standing; partners read a member's under consent, signed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from openscore.api.deps import (
    CurrentMember,
    CurrentPartner,
    DbSession,
    State,
    UnitOfWorkRoute,
    now,
    require_scope,
    service_state,
)
from openscore.api.problems import problem_responses
from openscore.partners.schemas import Scope
from openscore.rights.schemas import Purpose
from openscore.scoring.records import ScoreRecords
from openscore.standing import service
from openscore.standing.repository import StandingRepository
from openscore.standing.schemas import (
    ScoreHistory,
    ScoreOut,
    StandingOut,
    StandingQuery,
    WhatIfIn,
    WhatIfOut,
)

router = APIRouter(tags=["standing"], route_class=UnitOfWorkRoute)


# Partners' standing queries come first: the route table is searched in order for every
# request, and they are most of the service's traffic.
@router.get("/v1/standing/{pseudonym}", responses=problem_responses(401, 403, 404, 422, 429))
async def partner_standing(
    pseudonym: Annotated[str, Path(pattern=r"^psn_[A-Za-z0-9_\-]{1,60}$")],
    purpose: Purpose,
    partner: CurrentPartner,
    request: Request,
) -> StandingOut:
    """A member's standing as their consent grant allows, with a signed attestation.

    Logged in the member's access log in the same transaction, committed before the answer.
    """
    require_scope(partner, Scope.standing_read)
    # A coroutine with no unit of work of its own: the desk answers queries in batches, one
    # transaction each (openscore.standing.desk). The state comes from the request, not
    # from a dependency FastAPI would solve on each query.
    desk = service_state(request).desk
    return await desk.ask(StandingQuery(partner, pseudonym, purpose))


@router.get("/v1/me/score", responses=problem_responses(401, 403, 404))
def my_score(member: CurrentMember, db: DbSession) -> ScoreOut:
    """Your latest score: band, sub-scores and the reasons, each with its evidence."""
    return service.own_score(ScoreRecords(db), member.member_id)


@router.get("/v1/me/score/history", responses=problem_responses(401, 403, 422))
def my_score_history(
    member: CurrentMember, db: DbSession, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> ScoreHistory:
    """Your score records, newest first."""
    return service.own_history(ScoreRecords(db), member.member_id, limit)


@router.post("/v1/me/what-if", responses=problem_responses(401, 403, 404, 409, 422))
def my_what_if(body: WhatIfIn, member: CurrentMember, db: DbSession, state: State) -> WhatIfOut:
    """Your score with some actionable features changed."""
    return service.own_what_if(
        state.rescorer, StandingRepository(db), member.member_id, body, now()
    )
