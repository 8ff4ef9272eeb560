"""The web pages: one router holding the member's, the partner's and the auditor's pages.

Include it in the service's app (``app.include_router(router)``); the pages use the same
store, sessions and keys as the API, through the service's own domain functions.
"""

from __future__ import annotations

from fastapi import APIRouter

from openscore.api.deps import UnitOfWorkRoute
from openscore.web import auditor_pages, consent_pages, member_pages, partner_pages, static_files

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)
router.include_router(static_files.router)
router.include_router(member_pages.router)
router.include_router(consent_pages.router)
router.include_router(partner_pages.router)
router.include_router(auditor_pages.router)

__all__ = ["router"]
