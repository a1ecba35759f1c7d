"""The support handoff report: what another operator needs to reproduce or triage an incident,
without secrets (SOP: redact provider keys, credentials, payment data, private customer details
and raw logs before support handoff).

The report is a pure function of the incident's events before the handoff, so the ledger never
stores it: the SupportHandoffCreated event holds its SHA-256, and anyone can rebuild the report
from the log and check the hash. The affected user is a private customer detail: never shared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from events.catalogue import Event
from events.domain.incident_events import EscalationDecided, EvidenceRecorded
from events.domain.incidents import INCIDENTS
from events.envelope import canonical_json
from service.redaction import redact, redact_text

FORMAT = "sophmate-support-handoff/1"
SHARED_FIELDS = (
    "severity",
    "summary",
    "occurred_at",
    "affected_screen",
    "versions",
    "reproduction_steps",
    "escalation",
    "evidence",
)
"""What leaves the ledger, recorded in the handoff event: the affected user is not in it."""


def build_report(
    events: Sequence[Event], handoff_id: str, generated_at: datetime
) -> dict[str, Any]:
    incident = INCIDENTS.fold(events)
    facts = incident.facts
    reason = next((e.reason for e in reversed(events) if isinstance(e, EscalationDecided)), None)
    evidence = [
        {"evidence_id": e.evidence_id, "content": e.content, "masked": [m.kind for m in e.masked]}
        for e in events
        if isinstance(e, EvidenceRecorded)
    ]
    report = {
        "format": FORMAT,
        "handoff_id": handoff_id,
        "incident_id": incident.incident_id,
        "generated_at": generated_at.isoformat(),
        "severity": facts.severity,
        "summary": facts.summary,
        "occurred_at": facts.occurred_at.isoformat() if facts.occurred_at else None,
        "affected_screen": facts.affected_screen,
        "versions": {
            "sophmate": facts.sophmate_version,
            "wordpress": facts.wordpress_version,
            "php": facts.php_version,
        },
        "reproduction_steps": facts.reproduction_steps,
        "escalation": {"target": incident.escalation, "reason": reason},
        "evidence": evidence,
    }
    # Everything in it was masked on entry; a second pass costs little and guards old events.
    masked, _ = redact(report)
    assert isinstance(masked, dict)
    return masked


def report_sha256(report: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(report)).hexdigest()


def render_markdown(report: dict[str, Any]) -> str:
    versions = report["versions"]
    escalation = report["escalation"]
    lines = [
        f"# Support handoff {report['handoff_id']}: incident {report['incident_id']}",
        "",
        f"- **Severity:** {report['severity']}",
        f"- **Occurred at:** {report['occurred_at']}",
        f"- **Affected screen:** {report['affected_screen']}",
        f"- **Versions:** SophMate {versions['sophmate']}, WordPress {versions['wordpress']}, "
        f"PHP {versions['php']}",
        f"- **Escalate to:** {escalation['target']} ({escalation['reason']})",
        f"- **Generated at:** {report['generated_at']}",
        "",
        "## Summary",
        "",
        str(report["summary"]),
        "",
        "## Reproduction steps",
        "",
        str(report["reproduction_steps"]),
        "",
        "## Evidence",
        "",
    ]
    for item in report["evidence"]:
        masked = ", ".join(item["masked"]) or "nothing"
        lines += [f"### {item['evidence_id']} (masked: {masked})", "", "```", _text(item), "```"]
        lines.append("")
    if not report["evidence"]:
        lines += ["No evidence recorded.", ""]
    lines.append(f"Report format {report['format']}; its SHA-256 is recorded in the ledger.")
    markdown, _ = redact_text("\n".join(lines) + "\n")
    return markdown


def _text(item: dict[str, Any]) -> str:
    content = item["content"]
    if isinstance(content, str):
        return content.replace("```", "'''")
    return canonical_json(content).decode().replace("```", "'''")
