"""Partners report events; members and staff see the partner directory."""

from __future__ import annotations

from fastapi import APIRouter, Request

from openscore.api.deps import (
    CurrentPartner,
    DbSession,
    ServiceState,
    State,
    UnitOfWorkRoute,
    current_auditor,
    current_member,
    current_operator,
    now,
    require_scope,
)
from openscore.api.problems import problem_responses
from openscore.errors import Forbidden, NotSignedIn
from openscore.partners import service
from openscore.partners.repository import PartnersRepository
from openscore.partners.schemas import BatchAccepted, EventBatch, PartnerOut, Scope

router = APIRouter(tags=["partners"], route_class=UnitOfWorkRoute)


@router.post("/v1/events", responses=problem_responses(401, 403, 422, 429))
def post_events(
    batch: EventBatch, partner: CurrentPartner, db: DbSession, state: State
) -> BatchAccepted:
    """Report events (by the members' pseudonyms); all valid or nothing written; idempotent.

    Each member with a new event is rescored: before the answer when the batch is about a
    few members, just after it in the background when about many (the answer says which).
    """
    require_scope(partner, Scope.events_write)
    return service.report_events(
        db, partner, batch.events, state.rescorer, now(), backlog=state.backlog
    )


@router.get("/v1/partners", responses=problem_responses(401, 403))
def list_partners(request: Request, db: DbSession, state: State) -> list[PartnerOut]:
    """The partners members can consent to, with the threshold each compares scores with."""
    _member_or_staff(request, state)
    return [service.partner_out(row) for row in PartnersRepository(db).all()]


def _member_or_staff(request: Request, state: ServiceState) -> None:
    """Members, operators and auditors may list partners; partners may not list each other."""
    refusal: Exception | None = None
    for check in (
        lambda: current_member(request, state),
        lambda: current_operator(request, state),
        lambda: current_auditor(request, state),
    ):
        try:
            check()
            return
        except Forbidden as error:
            refusal = error
        except NotSignedIn as error:
            refusal = refusal or error
    if isinstance(refusal, Forbidden):
        raise Forbidden("partners cannot list other partners")
    raise refusal or NotSignedIn("sign in first")
