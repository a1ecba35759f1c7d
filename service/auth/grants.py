"""Grant enforcement in the role layer (operator rollout). Where a site has switched enforcement
on, a token's (subject, role) counts on that site only while an active grant exists.

The check costs no database round trip per request: it reads `GrantIndex`, this process's copy
of the enforced sites' rows of the inline read model (projections/rollout_sites.py). The copy
is reloaded in the request of every rollout command before it answers (so this replica honours
a revoke or a suspension from the moment the command has answered), on the log's NOTIFY from
other replicas' appends, and by polling, because a notification can be lost: another
replica's change is honoured here within about `poll_seconds` at worst.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Collection
from dataclasses import dataclass

import asyncpg
from fastapi import Request

from events.domain.rollout import Rollout
from events.errors import Forbidden
from events.store import NOTIFY_CHANNEL
from events.subscriber import Progress
from projections import generations
from projections.rollout_sites import RolloutSites
from service.auth.principal import Principal
from service.auth.roles import allowed_roles
from service.tenancy import Tenant, can_access

EXEMPT_OPERATIONS = frozenset({"acknowledge-sop", "get-sop-coverage", "get-operator-access"})
"""What an operator without an active grant still needs: reading the SOPs and acknowledging
them, which is how a suspended grant comes back (else a revision would lock them out)."""
PROJECTION = RolloutSites()


@dataclass(frozen=True)
class SiteGrants:
    agency_id: str | None
    honoured: frozenset[tuple[str, str]]
    """(subject, role) pairs with an active grant."""
    missing: dict[tuple[str, str], tuple[str, ...]]
    """For a suspended grant, the acknowledgments that would bring it back."""

    @classmethod
    def of(cls, agency_id: str | None, rollout: Rollout) -> SiteGrants:
        honoured = frozenset((g.subject, g.role) for g in rollout.grants if g.status == "active")
        missing = {
            (g.subject, g.role): tuple(rollout.missing_acknowledgments(g.subject, g.role))
            for g in rollout.grants
            if g.status == "suspended"
        }
        return cls(agency_id, honoured, missing)


class GrantIndex:
    """The enforced sites and their active grants; a subscriber, so the supervisor restarts its
    refresh loop after a database error (the last good copy keeps answering meanwhile)."""

    name = "grant-index"

    def __init__(self, pool: asyncpg.Pool, poll_seconds: float = 1.0) -> None:
        self.pool = pool
        self.poll_seconds = poll_seconds
        self.sites: dict[str, SiteGrants] = {}
        self._wake = asyncio.Event()
        self._stopping = False

    async def refresh(self) -> None:
        """Which sites enforce comes from the log (their last GrantEnforcementChanged, through
        a partial index); their grants from the inline read model. A site the read model does
        not show enforced yet (a fresh generation still catching up) honours nobody: closed,
        never open."""
        enforced = await self.pool.fetch(
            """SELECT DISTINCT ON (site_id) site_id, agency_id,
                      (data->>'enabled')::boolean AS enabled
               FROM events WHERE type = 'GrantEnforcementChanged'
               ORDER BY site_id, position DESC"""
        )
        on = {row["site_id"]: row["agency_id"] for row in enforced if row["enabled"]}
        sites = {site: SiteGrants(agency, frozenset(), {}) for site, agency in on.items()}
        live = await generations.live(self.pool, PROJECTION.name) if on else None
        if live is not None:
            rows = await self.pool.fetch(
                f"SELECT site_id, agency_id, state::text AS state "  # noqa: S608 (own names)
                f"FROM {live.tables['sites']} WHERE enforced AND site_id = ANY($1::text[])",
                list(on),
            )
            for row in rows:
                rollout = Rollout.model_validate_json(row["state"])
                sites[row["site_id"]] = SiteGrants.of(row["agency_id"], rollout)
        self.sites = sites

    async def run(self, progress: Progress) -> None:
        self._stopping = False

        def on_notify(*_: object) -> None:
            self._wake.set()

        async with self.pool.acquire() as conn:
            await conn.add_listener(NOTIFY_CHANNEL, on_notify)
            try:
                while not self._stopping:
                    self._wake.clear()
                    await self.refresh()
                    progress.running()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                    # Appends elsewhere notify up to 100 times a second: reload at most 20.
                    await asyncio.sleep(0.05)
            finally:
                await conn.remove_listener(NOTIFY_CHANNEL, on_notify)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def lag(self, pool: asyncpg.Pool) -> int | None:
        return None

    def honoured(self, principal: Principal, operation_id: str, path_site: str | None) -> Principal:
        """The principal as enforcement lets it act: only the roles granted on every enforced
        site the request reaches (the site in its path, else every site the token reaches).
        403 naming the missing grants or acknowledgments when none of those may call the
        operation. Sites the principal may not see are left to tenancy (404, no leak)."""
        if not self.sites or principal.all_sites or operation_id in EXEMPT_OPERATIONS:
            return principal
        targets = [path_site] if path_site is not None else self._reachable(principal)
        enforced = {
            site: grants
            for site in targets
            if (grants := self.sites.get(site)) is not None
            and can_access(principal, Tenant(site, grants.agency_id))
        }
        if not enforced:
            return principal
        sub = principal.sub
        honoured = frozenset(
            role
            for role in principal.roles
            if all((sub, role.value) in grants.honoured for grants in enforced.values())
        )
        allowed = allowed_roles(operation_id)
        if honoured & allowed:
            if honoured == principal.roles:
                return principal  # the common case, and a copy costs more than the check
            return dataclasses.replace(principal, roles=honoured)
        raise Forbidden(
            "this site enforces access grants: your token's roles are not granted here",
            missing=_missing(enforced, sub, sorted(principal.roles & allowed)),
        )

    def _reachable(self, principal: Principal) -> list[str]:
        sites = set(principal.sites)
        if principal.agency_wide:
            sites |= {s for s, g in self.sites.items() if g.agency_id == principal.agency}
        return sorted(sites)


def _missing(enforced: dict[str, SiteGrants], sub: str, roles: Collection[str]) -> list[str]:
    missing: list[str] = []
    for site, grants in sorted(enforced.items()):
        for role in roles:
            if (sub, role) in grants.honoured:
                continue
            acks = grants.missing.get((sub, role))
            missing += list(acks) if acks else [f"grants.{site}.{sub}.{role}"]
    return missing


def honoured(request: Request, principal: Principal, operation_id: str) -> Principal:
    """The role layer's hook (service/auth/dependencies.py)."""
    index: GrantIndex | None = getattr(request.app.state, "grant_index", None)
    if index is None:
        return principal
    return index.honoured(principal, operation_id, request.path_params.get("site_id"))
