"""Sites: the facts SophMate's rollout SOP requires before automation touches a site."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from events.domain.sites import SITES
from events.errors import NotFound
from service.auth.dependencies import Caller
from service.command import CommandResult
from service.contract.headers import VERSIONED
from service.pagination import DEFAULT_LIMIT, Cursor, CursorCodec, CursorKey, KeyInt, Limit
from service.paths import SiteId
from service.requests import AsOf, AtVersion, Command, LedgerDep, reply, versioned
from service.sites import commands
from service.sites.schemas import (
    RecordSiteChangeBody,
    RecordSiteRecoveryPathsBody,
    RegisterSiteBody,
    RetireSiteKeyBody,
    SiteChangeRecordedResult,
    SiteKeyCreated,
    SiteKeyList,
    SiteKeyView,
    SiteView,
)

router = APIRouter(prefix="/v1/sites", tags=["sites"])


class RegistrationKey(CursorKey):
    """Where a page of site keys ends: the number of its last key in registration order."""

    registered: KeyInt


SITE_KEYS = CursorCodec("list-site-keys", RegistrationKey)


@router.post("", operation_id="register-site", status_code=201, response_model=CommandResult)
async def register_site(body: RegisterSiteBody, ctx: Command, ledger: LedgerDep) -> Response:
    """Register a WordPress site with its rollout facts: setup owner, production and staging URLs,
    SophMate, WordPress and PHP versions and active theme. Missing facts are listed in `missing`."""
    return reply(await commands.register_site(ledger, ctx, body))


@router.get("/{site_id}", operation_id="get-site", response_model=SiteView, responses=VERSIONED)
async def get_site(
    site_id: SiteId,
    who: Caller,
    ledger: LedgerDep,
    as_of: AsOf = None,
    at_version: AtVersion = None,
) -> JSONResponse:
    """A site's recorded facts, now or as they were at a time or version."""
    loaded = await ledger.load_visible(
        who, SITES, SITES.stream_id(site_id), "site", to_version=at_version, as_of=as_of
    )
    site = loaded.state
    if site.site_id is None:
        raise NotFound("site not found")
    view = SiteView(
        site_id=site.site_id, agency_id=site.agency_id, facts=site.facts, version=loaded.version
    )
    return versioned(view, loaded.version)


@router.post(
    "/{site_id}/keys",
    operation_id="register-site-key",
    status_code=201,
    response_model=SiteKeyCreated,
)
async def register_site_key(
    site_id: SiteId, ctx: Command, ledger: LedgerDep, request: Request
) -> Response:
    """Create an HS256 key for the site's WordPress plugin. The secret is shown in this answer
    only (sent with `Cache-Control: no-store`). Two keys may be active at once, so a site can
    rotate: add the new key, switch the plugin over, retire the old one. A site key's own token
    never manages keys."""
    box = request.app.state.secret_box
    answer = reply(await commands.register_site_key(ledger, ctx, site_id, box))
    # The answer carries a secret: no browser, proxy or CDN may keep a copy of it.
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.post(
    "/{site_id}/keys/{kid}/retire", operation_id="retire-site-key", response_model=CommandResult
)
async def retire_site_key(
    site_id: SiteId, kid: str, body: RetireSiteKeyBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Retire a site key: tokens it signed are refused from now on."""
    return reply(await commands.retire_site_key(ledger, ctx, site_id, kid, body))


@router.get("/{site_id}/keys", operation_id="list-site-keys", response_model=SiteKeyList)
async def list_site_keys(
    site_id: SiteId,
    who: Caller,
    ledger: LedgerDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> SiteKeyList:
    """The site's keys with their fingerprints, in the order they were registered (retired
    ones too); secrets are never returned. Not to a site key's own token: a site key never
    manages keys."""
    commands.refuse_site_key_callers(who)
    after = SITE_KEYS.decode(cursor)
    loaded = await ledger.load_visible(who, SITES, SITES.stream_id(site_id), "site")
    site = loaded.state
    # Keys are never removed, so a key's place in the registration order is a stable keyset.
    keyed = [
        (
            RegistrationKey(registered=number),
            SiteKeyView(kid=kid, fingerprint=fingerprint, active=kid in site.active_keys),
        )
        for number, (kid, fingerprint) in enumerate(site.fingerprints.items(), start=1)
        if after is None or number > after.registered
    ]
    items, next_cursor = SITE_KEYS.page(keyed[: limit + 1], limit)
    return SiteKeyList(items=items, next_cursor=next_cursor, limit=limit)


@router.post(
    "/{site_id}/changes",
    operation_id="record-site-change",
    response_model=SiteChangeRecordedResult,
)
async def record_site_change(
    site_id: SiteId, body: RecordSiteChangeBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record a hosting, provider or plugin change. By the pause rule (hosting, provider and
    plugin changes, or any change with `pause_automation: true`) it also engages the
    all-categories kill switch, so automation stops until an operations lead or administrator
    other than the recorder has checked diagnostics and releases it, with a reason. The recorder
    may not switch the pause off (`pause_automation: false` is refused for those kinds)."""
    return reply(await commands.record_site_change(ledger, ctx, site_id, body))


@router.post(
    "/{site_id}/recovery-paths",
    operation_id="record-site-recovery-paths",
    response_model=CommandResult,
)
async def record_site_recovery_paths(
    site_id: SiteId, body: RecordSiteRecoveryPathsBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record the site's rollback or support path (or both) after its registration; who and
    when are on the record. A workflow is promoted to production writes only on a site with
    one of them."""
    return reply(await commands.record_site_recovery_paths(ledger, ctx, site_id, body))
