"""Tenant scoping, in one place. Another tenant's ids answer exactly as unknown ones do (404)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from events.envelope import StoredEvent
from events.errors import Forbidden, NotFound
from service.auth.principal import Principal


@dataclass(frozen=True)
class Tenant:
    site_id: str | None
    agency_id: str | None


def can_access(principal: Principal, tenant: Tenant) -> bool:
    if principal.all_sites:
        return True
    # An agency identity provider speaks for its agency only, whatever sites its token lists.
    if principal.bound_agency is not None and tenant.agency_id != principal.bound_agency:
        return False
    if tenant.site_id is not None and tenant.site_id in principal.sites:
        return True
    return principal.agency_wide and tenant.agency_id == principal.agency


def can_create(principal: Principal, tenant: Tenant) -> bool:
    """A new stream's tenant must be the principal's own: its site, within its agency."""
    if principal.all_sites:
        return True
    if principal.agency is not None and tenant.agency_id != principal.agency:
        return False
    return can_access(principal, tenant)


def require_access(principal: Principal, tenant: Tenant | None, what: str) -> None:
    if tenant is None or not can_access(principal, tenant):
        raise NotFound(f"{what} not found")


def can_see_agency(principal: Principal, agency_id: str) -> bool:
    """An agency's lists are for platform administrators and the agency's own principals; what
    of it they show is then scoped by `scope_condition` like any other read."""
    return principal.all_sites or principal.agency == agency_id


def require_agency(principal: Principal, agency_id: str) -> None:
    if not can_see_agency(principal, agency_id):
        raise NotFound("agency not found")


def require_platform(principal: Principal, what: str) -> None:
    """Work over every tenant at once (a read model's rebuild) is for platform administrators:
    a token with sites ["*"]. 403: the caller is known, the scope is not theirs."""
    if not principal.all_sites:
        raise Forbidden(f"{what} is for platform administrators")


def require_create(principal: Principal, tenant: Tenant | None, what: str) -> None:
    if tenant is None or not can_create(principal, tenant):
        raise NotFound(f"{what} not found")


def require_same_customer(source: Tenant | None, target: Tenant | None) -> None:
    """What moves between sites (a playbook) moves only within one agency's client sites, or
    stays on its own site: a careless move would carry one client's data into another's. 403,
    not 404: the caller may see both sites, and the refusal is the rule, not an unknown id."""
    if source is None or target is None:
        raise Forbidden("the playbook comes from a site this ledger does not know")
    same_site = source.site_id == target.site_id
    same_agency = source.agency_id is not None and source.agency_id == target.agency_id
    if not (same_site or same_agency):
        raise Forbidden("the playbook comes from a site of another agency or customer")


def stream_tenant(events: Sequence[StoredEvent]) -> Tenant | None:
    """The tenant a stream belongs to is fixed by its first event."""
    if not events:
        return None
    return Tenant(events[0].site_id, events[0].agency_id)


def scope_condition(principal: Principal, first_param: int) -> tuple[str, list[object]]:
    """A SQL condition (over columns site_id and agency_id) that keeps only the principal's rows,
    and its parameters, numbered from `first_param`. Every tenant-scoped query uses this."""
    if principal.all_sites:
        return "TRUE", []
    sites = sorted(principal.sites)
    if principal.bound_agency is not None:
        if principal.agency_wide:
            return f"agency_id = ${first_param}", [principal.bound_agency]
        return (
            f"(site_id = ANY(${first_param}::text[]) AND agency_id = ${first_param + 1})",
            [sites, principal.bound_agency],
        )
    if principal.agency_wide:
        return (
            f"(site_id = ANY(${first_param}::text[]) OR agency_id = ${first_param + 1})",
            [sites, principal.agency],
        )
    return f"site_id = ANY(${first_param}::text[])", [sites]
