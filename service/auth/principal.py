"""The one Principal type every route and command receives."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

ALL_SITES = "*"


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    OPERATIONS_LEAD = "operations_lead"
    SUPPORT_LEAD = "support_lead"
    EDITOR = "editor"
    SUPPORT_AGENT = "support_agent"
    STORE_MANAGER = "store_manager"
    MARKETER = "marketer"
    DEVELOPER = "developer"
    AGENCY_LEAD = "agency_lead"
    AUDITOR = "auditor"


AGENCY_WIDE_ROLES = frozenset({Role.AGENCY_LEAD, Role.AUDITOR})
"""Roles that see every site of their agency, not only the sites their token lists."""


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[Role]
    sites: frozenset[str]
    agency: str | None
    key_id: str
    """Which key verified the token: recorded in every event the principal causes."""
    via_site_key: bool = False
    """Verified by a WordPress site's own key rather than the ledger's or an identity provider's."""
    issuer: str = ""
    """The `iss` of the token: the ledger's own, or an agency identity provider's."""
    bound_agency: str | None = None
    """Set when an agency identity provider verified the token: the only agency it reaches,
    whatever sites it lists (service/tenancy.py)."""

    @property
    def idempotency_scope(self) -> str:
        """Whose Idempotency-Keys these are: issuer, tenant binding and subject, never the
        verifying key, so the same subject signing with a rotated key replays, not re-runs."""
        if self.via_site_key:
            binding = "site:" + ",".join(sorted(self.sites))
        elif self.agency is not None:
            binding = "agency:" + self.agency
        else:
            binding = "-"
        return json.dumps([self.issuer, binding, self.sub], separators=(",", ":"))

    @property
    def all_sites(self) -> bool:
        return ALL_SITES in self.sites and Role.ADMINISTRATOR in self.roles

    @property
    def agency_wide(self) -> bool:
        return self.agency is not None and bool(self.roles & AGENCY_WIDE_ROLES)

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)
