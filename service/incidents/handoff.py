"""The support handoff report: what another operator needs to reproduce or triage an incident,
without secrets (SOP: redact provider keys, credentials, payment data, private customer details
and raw logs before support handoff).

The report is a pure function of the incident's events before the handoff, so the ledger never
stores it: the SupportHandoffCreated event holds its SHA-256, and anyone can rebuild the report
from the log and check the hash. The affected user is a private customer detail: never shared.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from events.catalogue import Event
from events.domain.incident_events import EscalationDecided, EvidenceRecorded
from events.domain.incidents import INCIDENTS
from events.envelope import canonical_json
from service.redaction import redact, redact_text
from service.redaction_shapes import MARKER

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
    """The report for people. Every value came from users (facts, reasons, evidence), so each is
    escaped: a summary cannot open a heading, a link, an image or raw HTML, and evidence sits in
    a code fence longer than any run of backticks inside it, so it cannot close the fence."""
    versions = report["versions"]
    escalation = report["escalation"]
    lines = [
        f"# Support handoff {_inline(report['handoff_id'])}: "
        f"incident {_inline(report['incident_id'])}",
        "",
        f"- **Severity:** {_inline(report['severity'])}",
        f"- **Occurred at:** {_inline(report['occurred_at'])}",
        f"- **Affected screen:** {_inline(report['affected_screen'])}",
        f"- **Versions:** SophMate {_inline(versions['sophmate'])}, "
        f"WordPress {_inline(versions['wordpress'])}, PHP {_inline(versions['php'])}",
        f"- **Escalate to:** {_inline(escalation['target'])} ({_inline(escalation['reason'])})",
        f"- **Generated at:** {_inline(report['generated_at'])}",
        "",
        "## Summary",
        "",
        _block(report["summary"]),
        "",
        "## Reproduction steps",
        "",
        _block(report["reproduction_steps"]),
        "",
        "## Evidence",
        "",
    ]
    for item in report["evidence"]:
        masked = ", ".join(_inline(kind) for kind in item["masked"]) or "nothing"
        text = _text(item)
        fence = "`" * max(3, _longest_backtick_run(text) + 1)
        lines += [f"### {_inline(item['evidence_id'])} (masked: {masked})", "", fence, text, fence]
        lines.append("")
    if not report["evidence"]:
        lines += ["No evidence recorded.", ""]
    lines.append(f"Report format {report['format']}; its SHA-256 is recorded in the ledger.")
    markdown, _ = redact_text("\n".join(lines) + "\n")
    return markdown


# Every ASCII punctuation character may be backslash-escaped in CommonMark, and an escaped one is
# always literal: no emphasis, link, image, HTML, heading, list, table or autolink can start.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _escape(text: str) -> str:
    # Our own markers stay readable: only the text between them is escaped.
    pieces = MARKER.split(text)
    markers = MARKER.findall(text)
    escaped = [_PUNCTUATION.sub(r"\\\1", piece) for piece in pieces]
    return "".join(e + (markers[i] if i < len(markers) else "") for i, e in enumerate(escaped))


def _inline(value: object) -> str:
    """One line: a newline in a field must not start a block of its own."""
    return _escape(" ".join(str(value).split()))


def _block(value: object) -> str:
    """Paragraphs kept, each line escaped; leading spaces dropped (four would make code)."""
    return "\n".join(_escape(line.strip()) for line in str(value).splitlines())


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def _text(item: dict[str, Any]) -> str:
    content = item["content"]
    if isinstance(content, str):
        return content
    return canonical_json(content).decode()
