"""Members sign in and out; ``/v1/me`` says who is signed in."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from openscore.accounts import service
from openscore.accounts.repository import AccountsRepository
from openscore.accounts.schemas import Me, SessionIssued, SignIn
from openscore.accounts.secrets import sign_cookie
from openscore.api.deps import SESSION_COOKIE, CurrentMember, DbSession, State, UnitOfWorkRoute, now
from openscore.api.problems import problem_responses
from openscore.errors import NotFound

router = APIRouter(tags=["members"], route_class=UnitOfWorkRoute)


@router.post(
    "/v1/sessions",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 422, 429),
)
def sign_in(
    body: SignIn, request: Request, response: Response, db: DbSession, state: State
) -> SessionIssued:
    """Sign in with member id and password: a bearer token, and the same as a cookie."""
    client = request.client.host if request.client else "unknown"
    state.limits.check("sign_in", f"{client}|{body.member_id}")
    issued = service.sign_in(AccountsRepository(db), body.member_id, body.password, now())
    response.set_cookie(
        SESSION_COOKIE,
        sign_cookie(issued.token, state.cookie_key),
        expires=issued.expires_at,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return issued


@router.delete(
    "/v1/sessions/current",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403),
)
def sign_out(member: CurrentMember, response: Response, db: DbSession) -> None:
    """End the current session."""
    service.sign_out(AccountsRepository(db), member.token, now())
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/v1/me", responses=problem_responses(401, 403, 404))
def me(member: CurrentMember, db: DbSession) -> Me:
    """The signed-in member."""
    row = AccountsRepository(db).member(member.member_id)
    if row is None:
        raise NotFound("your membership is not in the ledger")
    return Me(
        member_id=row.member_id,
        status=row.status,
        enrolled_at=row.enrolled_at,
        connections_opt_in=row.connections_opt_in,
    )
