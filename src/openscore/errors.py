"""Domain errors: what went wrong in the domain's words, with the HTTP status it answers with.

Services raise these without knowing about HTTP; one handler in ``openscore.api.problems``
turns every one into the same problem document (``application/problem+json``).
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error a caller of the service can cause; subclasses set status and code."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class NotSignedIn(DomainError):
    status = 401
    code = "not_authenticated"
    title = "Credentials are missing or not valid"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed for this caller"


class ConsentRequired(DomainError):
    status = 403
    code = "consent_required"
    title = "No active consent grant covers this request"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflicts with the current state"


class Invalid(DomainError):
    status = 422
    code = "invalid"
    title = "The request is not valid"


class TooManyRequests(DomainError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"
