"""The one role matrix. Every route names its operationId; this table says who may call it.

Rules that depend on the state (the requester never approves their own run, a workflow's owner
may pause it) are enforced by the deciders on top of this table; each decider states its rules in
events/domain/row_rules.py, and the README's matrix prints them as footnotes.
"""

from __future__ import annotations

from events.domain import load_all
from events.domain.row_rules import ROW_RULES
from service.auth.principal import Role

R = Role
EVERYONE = frozenset(Role)
LEADS = frozenset({R.ADMINISTRATOR, R.OPERATIONS_LEAD})
WORKERS = EVERYONE - {R.AUDITOR}
"""Every role that does work on a site; auditors only read."""
CURATORS = LEADS | {R.AGENCY_LEAD}
"""Who moves playbooks between client sites."""
REVIEWERS = LEADS | {R.SUPPORT_LEAD}
SOP_OWNERS = frozenset({R.ADMINISTRATOR, R.AGENCY_LEAD})
"""Who owns a site's operator SOPs and grants its access."""
AUDITORS = frozenset({R.AUDITOR, R.ADMINISTRATOR})
"""Who reads the audit logs, their proofs and their export."""
HOOK_OWNERS = frozenset({R.ADMINISTRATOR, R.AGENCY_LEAD})
"""Who subscribes endpoints to the log: the site administrator, the agency's lead."""
"""Who runs a post-incident review (SOP: the support lead or the site administrator)."""

MATRIX: dict[str, frozenset[Role]] = {
    # sites: set up by the site administrator or the agency implementation lead (SOP rollout)
    "register-site": frozenset({R.ADMINISTRATOR, R.AGENCY_LEAD}),
    "get-site": EVERYONE,
    # site keys and webhook subscriptions: administrators only
    "register-site-key": frozenset({R.ADMINISTRATOR}),
    "retire-site-key": frozenset({R.ADMINISTRATOR}),
    "list-site-keys": frozenset({R.ADMINISTRATOR}),
    # read models: every role within its sites; agency leads and auditors across their agency
    "get-site-activity": EVERYONE,
    "list-agency-activity": EVERYONE,
    "list-site-workflows": EVERYONE,
    "list-pending-approvals": EVERYONE,
    "rebuild-projection": frozenset({R.ADMINISTRATOR}),
    # history: every role reads the log of its own sites; the bulk audit export is for auditors
    "list-events": EVERYONE,
    "list-stream-events": EVERYONE,
    "export-events": frozenset({R.AUDITOR, R.ADMINISTRATOR}),
    # sites: hosting, provider and plugin changes are recorded by whoever makes them
    "record-site-change": frozenset(
        {R.ADMINISTRATOR, R.OPERATIONS_LEAD, R.DEVELOPER, R.AGENCY_LEAD}
    ),
    # a rollback or support path recorded after registration, by whoever sets sites up
    "record-site-recovery-paths": frozenset({R.ADMINISTRATOR, R.AGENCY_LEAD, R.OPERATIONS_LEAD}),
    # workflows (SOP workflow safety): defined by operations and developers, promoted by leads
    "register-workflow": frozenset({R.ADMINISTRATOR, R.OPERATIONS_LEAD, R.DEVELOPER}),
    "revise-workflow": frozenset({R.ADMINISTRATOR, R.OPERATIONS_LEAD, R.DEVELOPER}),
    "get-workflow": EVERYONE,
    "explain-workflow": EVERYONE,
    "list-workflow-runs": EVERYONE,
    "promote-workflow": LEADS,
    # pausing: any role that can own a workflow; the decider admits only its owner and the leads
    "pause-workflow": WORKERS,
    "resume-workflow": LEADS,
    # runs: requested and reported by the people and plugins that do the work, approved by leads
    "request-run": WORKERS,
    "approve-run": LEADS,
    "reject-run": LEADS,
    "review-run": LEADS | {R.SUPPORT_LEAD, R.DEVELOPER},
    "record-run-result": WORKERS,
    # kill switches: quick to engage by the operations owners (SOP: visible to them)
    "get-kill-switches": EVERYONE,
    "engage-kill-switch": LEADS | {R.SUPPORT_LEAD},
    "release-kill-switch": LEADS | {R.SUPPORT_LEAD},
    # incidents (SOP post-incident review): anyone working on a site reports one and adds
    # evidence; the support lead or a lead runs the review, closes and hands off
    "open-incident": WORKERS,
    "get-incident": EVERYONE,
    "get-incident-timeline": EVERYONE,
    "list-site-incidents": EVERYONE,
    "list-agency-incidents": EVERYONE,
    "list-prevention-actions": EVERYONE,
    "record-evidence": WORKERS,
    "set-escalation": REVIEWERS,
    "record-root-cause": REVIEWERS | {R.DEVELOPER},
    "record-detection-gaps": REVIEWERS | {R.DEVELOPER},
    "record-safeguards": REVIEWERS | {R.DEVELOPER},
    "add-prevention-action": REVIEWERS,
    # the decider admits only the action's owner and the reviewers
    "complete-prevention-action": WORKERS,
    "record-regression-check": REVIEWERS | {R.DEVELOPER},
    "set-restart-criteria": REVIEWERS,
    "record-documentation-change": REVIEWERS | {R.DEVELOPER},
    "close-incident": REVIEWERS,
    "reopen-incident": REVIEWERS,
    "create-support-handoff": REVIEWERS | {R.SUPPORT_AGENT},
    "get-support-handoff": EVERYONE - {R.EDITOR, R.MARKETER},
    # playbooks (SOP agency reuse): built by operations and developers, moved between client
    # sites by the leads and the agency's implementation lead; an agency lead only within its
    # own agency (tenancy)
    "register-playbook": CURATORS | {R.DEVELOPER},
    "revise-playbook": CURATORS | {R.DEVELOPER},
    "get-playbook": EVERYONE,
    "export-playbook": CURATORS,
    "import-playbook": CURATORS,
    "complete-local-change": CURATORS | {R.DEVELOPER},
    "record-playbook-first-run": CURATORS | {R.DEVELOPER},
    "approve-playbook-promotion": CURATORS,
    "promote-playbook": CURATORS,
    "list-site-playbooks": EVERYONE,
    "list-agency-playbooks": EVERYONE,
    # audit integrity: auditors and administrators, each log within its agency
    "get-checkpoint": AUDITORS,
    "get-tile": AUDITORS,
    "get-inclusion-proof": AUDITORS,
    "get-consistency-proof": AUDITORS,
    "get-event-receipt": AUDITORS,
    "export-audit-log": AUDITORS,
    # operator rollout (SOP: owned by the site administrator or the agency implementation
    # lead): they publish SOPs and grant access; operators acknowledge; readiness is verified
    # by whoever set the site up; the first-week review by the leads
    "publish-sop": SOP_OWNERS,
    "acknowledge-sop": WORKERS,
    "grant-access": SOP_OWNERS,
    "revoke-access": SOP_OWNERS,
    "set-grant-enforcement": SOP_OWNERS,
    "verify-readiness-check": SOP_OWNERS | {R.OPERATIONS_LEAD, R.DEVELOPER},
    "record-review-finding": SOP_OWNERS | {R.OPERATIONS_LEAD, R.SUPPORT_LEAD},
    "get-site-readiness": EVERYONE,
    "get-sop-coverage": EVERYONE,
    "get-operator-access": EVERYONE,
    "list-open-findings": EVERYONE,
    "get-rollout-runbook": EVERYONE,
    # webhooks: administrators for their sites, agency leads for their agency (tenancy)
    "create-webhook-subscription": HOOK_OWNERS,
    "list-webhook-subscriptions": HOOK_OWNERS,
    "get-webhook-subscription": HOOK_OWNERS,
    "rotate-webhook-secret": HOOK_OWNERS,
    "disable-webhook-subscription": HOOK_OWNERS,
    "enable-webhook-subscription": HOOK_OWNERS,
    "delete-webhook-subscription": HOOK_OWNERS,
    "list-webhook-deliveries": HOOK_OWNERS,
    "list-webhook-dead-letters": HOOK_OWNERS,
    "redeliver-webhook": HOOK_OWNERS,
    "recover-webhook-deliveries": HOOK_OWNERS,
}

PUBLIC_OPERATIONS = frozenset(
    {
        "healthz",
        "readyz",
        "metrics",
        "get-playbook-signing-keys",
        "get-playbook-export-schema",
        "get-log-keys",
    }
)
PLATFORM_OPERATIONS = frozenset({"rebuild-projection"})
"""Operations on the whole ledger, not a tenant: only a platform administrator (sites "*")."""
"""Operations that need no token at all."""


def allowed_roles(operation_id: str) -> frozenset[Role]:
    return MATRIX[operation_id]


def matrix_markdown() -> str:
    """The matrix as the README shows it (a test keeps the two equal), with a footnote for each
    operation whose decider has row-level rules, in the deciders' own words."""
    load_all()
    roles = list(Role)
    head = "| operation | " + " | ".join(role.value for role in roles) + " |"
    rule = "|---|" + "---|" * len(roles)
    ruled = [op for op in MATRIX if op in ROW_RULES]
    rows = [
        f"| `{op}`{f' [^{ruled.index(op) + 1}]' if op in ruled else ''} | "
        + " | ".join("x" if role in allowed else "" for role in roles)
        + " |"
        for op, allowed in MATRIX.items()
    ]
    notes = [
        f"[^{number}]: `{op}`: " + "; ".join(ROW_RULES[op]) + "."
        for number, op in enumerate(ruled, start=1)
    ]
    return "\n".join([head, rule, *rows, "", *notes])


if __name__ == "__main__":
    print(matrix_markdown())
