"""Templates, the viewer of a page, and how a refusal becomes a page instead of JSON."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from events.errors import InvalidCommand, LedgerError
from service.auth import grants
from service.auth.principal import Principal
from service.auth.roles import allowed_roles
from service.dashboard import session as sessions
from service.problems import STATUS_OF, Unauthorized

ENV = Environment(
    loader=PackageLoader("service.dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(moment: datetime | str | None) -> Markup:
    """A time in UTC, which the page's script shows in the viewer's zone (UTC on hover)."""
    if moment is None or moment == "":
        return Markup("&mdash;")
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    iso = utc.isoformat().replace("+00:00", "Z")
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{0}" title="{1}">{1}</time>').format(iso, text)


_INDEX = re.compile(r"\[(\d+)\]")


def in_words(path: str) -> str:
    """A `missing` field path as a person reads it: prevention_actions[0].owner becomes
    "prevention actions #1: owner"."""
    text = _INDEX.sub(lambda m: f" #{int(m.group(1)) + 1}", path)
    return ": ".join(part.replace("_", " ").strip() for part in text.split("."))


ENV.filters["when"] = when
ENV.filters["in_words"] = in_words
ENV.globals["quote"] = lambda value: quote(str(value), safe="")
ENV.globals["form_id"] = lambda: secrets.token_urlsafe(16)
ENV.globals["done_messages"] = {
    "approved": "Run approved.",
    "rejected": "Run rejected.",
    "paused": "Workflow paused.",
    "engaged": "Kill switch engaged.",
    "released": "Kill switch released.",
}


class SignInRequired(Exception):
    pass


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    session: sessions.Session

    def may(self, operation_id: str) -> bool:
        return self.principal.has_any(allowed_roles(operation_id))


PAGE_READS = {
    "/dashboard": "list-agency-activity",
    "/dashboard/sites/{site_id}": "get-site",
    "/dashboard/workflows/{workflow_id}": "get-workflow",
    "/dashboard/approvals": "list-pending-approvals",
    "/dashboard/incidents/{incident_id}": "get-incident",
    "/dashboard/playbooks": "list-agency-playbooks",
    "/dashboard/activity": "list-events",
    "/dashboard/activity/export": "list-events",
}
"""The API read each page shows, so a site that enforces access grants gates the page as it
gates that read. An action is gated by its own command when it runs (actions.context)."""


async def viewer(request: Request) -> Viewer:
    """The signed-in person, verified again from the session's token on every request, with the
    roles grant enforcement honours for the page's read."""
    found = sessions.current(request)
    if found is None:
        raise SignInRequired
    try:
        principal = await request.app.state.verifier.verify(found.token)
    except Unauthorized:
        raise SignInRequired from None
    read = PAGE_READS.get(request.scope["route"].path)
    if read is not None:
        principal = grants.honoured(request, principal, read)
    return Viewer(principal, found)


def render(
    request: Request, template: str, who: Viewer | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    page = ENV.get_template(template).render(
        request=request,
        viewer=who,
        csrf=who.session.csrf if who else "",
        dev_sign_in=request.app.state.settings.env != "production",
        **context,
    )
    return HTMLResponse(page, status_code=status_code, headers=SECURITY_HEADERS)


SECURITY_HEADERS = {
    # Every asset is ours: no inline script, no other origin, no framing (clickjacking).
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def status_of(error: LedgerError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


def error_page(request: Request, error: LedgerError) -> HTMLResponse:
    status = status_of(error)
    found = sessions.current(request)
    who = None if found is None else Viewer(_anonymous, found)
    return render(request, "error.html", who, status, error=error, status=status)


_anonymous = Principal(sub="", roles=frozenset(), sites=frozenset(), agency=None, key_id="")


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/dashboard/sign-in?next={quote(target, safe='')}", 303)


class PageRoute(APIRoute):
    """A dashboard route: refusals are pages with the problem's status, not problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except LedgerError as error:
                return error_page(request, error)
            except RequestValidationError:
                return error_page(request, InvalidCommand("the address has a value out of range"))

        return page


MAX_FORM_BYTES = 16_384


async def form_fields(request: Request) -> dict[str, str]:
    """A urlencoded form, the only kind the dashboard posts (no file uploads)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise _TooLarge("the form is too large")
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=50)
    return dict(pairs)


class _TooLarge(LedgerError):
    title = "Form too large"
