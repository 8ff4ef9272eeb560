"""Serving the pages' CSS and scripts, and plotly.js from inside the plotly package."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from openscore.api.deps import UnitOfWorkRoute
from openscore.web.templating import static_file, static_version

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

#: Versioned URLs never change content, so browsers may keep them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/static/{version}/{name}")
def static(version: str, name: str, request: Request) -> Response:
    found = static_file(name)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {
        "Cache-Control": IMMUTABLE if version == static_version(name) else "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type=found.media_type, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)
