"""The dashboard's one router (registered by service.app), and its packaged static assets."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from events.errors import NotFound
from service.dashboard import actions, feed, pages, signin
from service.dashboard.rendering import PageRoute

STATIC = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}

router = APIRouter(route_class=PageRoute, include_in_schema=False)
for part in (signin.router, pages.router, feed.router, actions.router):
    router.include_router(part)


@router.get("/")
async def root() -> RedirectResponse:
    """People who open the service in a browser land on the dashboard, not a JSON 404."""
    return RedirectResponse("/dashboard", 307)


@router.get("/dashboard/static/{name}")
async def static_asset(name: str) -> Response:
    if name not in STATIC:
        raise NotFound("no such asset")
    body = files("service.dashboard").joinpath("static", name).read_bytes()
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(body, media_type=STATIC[name], headers=headers)
