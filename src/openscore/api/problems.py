"""One error format everywhere: a problem document (RFC 9457) with a machine-readable code."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from openscore.errors import DomainError

PROBLEM_MEDIA_TYPE = "application/problem+json"

_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid",
    429: "rate_limited",
}


class ProblemItem(BaseModel):
    """One problem with one part of the request (``index`` for an item of a batch)."""

    index: int | None = None
    field: str | None = None
    message: str


class Problem(BaseModel):
    """What every error answers: status, a stable code, a title, what happened and where."""

    type: str = "about:blank"
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. consent_required.")
    title: str
    detail: str
    errors: list[ProblemItem] | None = None


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        status=status,
        code=code,
        title=title,
        detail=detail,
        errors=[ProblemItem.model_validate(e) for e in errors] if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problems an endpoint can answer with."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": _CODES[status],
        }
        for status in statuses
    }


def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return problem_response(
        error.status, error.code, error.title, error.detail, error.errors, headers=headers
    )


def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    items = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        items.append({"field": ".".join(location) or None, "message": str(item.get("msg"))})
    return problem_response(
        422, "invalid", "The request is not valid", f"{len(items)} problem(s)", items
    )


def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _CODES.get(error.status_code, "error")
    return problem_response(
        error.status_code,
        code,
        code.replace("_", " ").capitalize(),
        str(error.detail),
        headers=dict(error.headers) if error.headers else None,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
