"""The one role matrix. Every route names its operationId; this table says who may call it.

Rules that depend on the state (the requester never approves their own run, a workflow's owner
may pause it) are enforced by the deciders on top of this table.
"""

from __future__ import annotations

from service.auth.principal import Role

R = Role
EVERYONE = frozenset(Role)
LEADS = frozenset({R.ADMINISTRATOR, R.OPERATIONS_LEAD})

MATRIX: dict[str, frozenset[Role]] = {
    # sites: set up by the site administrator or the agency implementation lead (SOP rollout)
    "register-site": frozenset({R.ADMINISTRATOR, R.AGENCY_LEAD}),
    "get-site": EVERYONE,
}

PUBLIC_OPERATIONS = frozenset({"healthz", "readyz", "metrics"})
"""Operations that need no token at all."""


def allowed_roles(operation_id: str) -> frozenset[Role]:
    return MATRIX[operation_id]
