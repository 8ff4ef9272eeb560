"""Members' consents and access log; auditors' view of the whole access log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from openscore.api.deps import CurrentAuditor, CurrentMember, DbSession, UnitOfWorkRoute, now
from openscore.api.problems import problem_responses
from openscore.partners.repository import PartnersRepository
from openscore.rights import service
from openscore.rights.repository import RightsRepository
from openscore.rights.schemas import AccessLogPage, AuditPage, GrantChange, GrantIn, GrantOut

router = APIRouter(tags=["consent"], route_class=UnitOfWorkRoute)

GrantId = Annotated[str, Path(pattern=r"^cg_[0-9a-f]{20}$")]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/v1/me/consents", responses=problem_responses(401, 403))
def my_consents(member: CurrentMember, db: DbSession) -> list[GrantOut]:
    """Your consent grants, newest first, each with its status."""
    return service.grants_of(RightsRepository(db), member.member_id, now())


@router.post(
    "/v1/me/consents",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 422),
)
def grant_consent(body: GrantIn, member: CurrentMember, db: DbSession) -> GrantOut:
    """Consent to a partner for a purpose, at a level, until an expiry (answer by default)."""
    return service.grant(
        RightsRepository(db), PartnersRepository(db), member.member_id, body, now()
    )


@router.patch("/v1/me/consents/{grant_id}", responses=problem_responses(401, 403, 404, 409, 422))
def narrow_consent(
    grant_id: GrantId, body: GrantChange, member: CurrentMember, db: DbSession
) -> GrantOut:
    """Narrow a grant: a lower level or an earlier expiry."""
    return service.narrow(RightsRepository(db), member.member_id, grant_id, body, now())


@router.delete("/v1/me/consents/{grant_id}", responses=problem_responses(401, 403, 404, 409, 422))
def revoke_consent(grant_id: GrantId, member: CurrentMember, db: DbSession) -> GrantOut:
    """Revoke a grant now."""
    return service.revoke(RightsRepository(db), member.member_id, grant_id, now())


@router.get("/v1/me/access-log", responses=problem_responses(401, 403, 422))
def my_access_log(member: CurrentMember, db: DbSession, limit: Limit = 200) -> AccessLogPage:
    """Every partner query of your standing: who, when, what was answered, under which grant."""
    return AccessLogPage(entries=service.access_log(RightsRepository(db), member.member_id, limit))


@router.get("/v1/audit/access-log", responses=problem_responses(401, 403, 422))
def audit_access_log(auditor: CurrentAuditor, db: DbSession, limit: Limit = 200) -> AuditPage:
    """The whole access log, newest first (auditors)."""
    return AuditPage(entries=service.audit_log(RightsRepository(db), limit))
