"""The rollout runbook as Markdown: the same content as its JSON, for a person to follow."""

from __future__ import annotations

from service.rollout.schemas import RunbookView


def _cell(value: object) -> str:
    # Table cells: a pipe or a line break in recorded text must not break the table.
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def render_markdown(book: RunbookView) -> str:
    ready = book.readiness
    lines = [
        f"# Rollout runbook: {book.site_id}",
        "",
        f"Agency: {book.agency_id or 'none'}; rollout stream version {book.stream_version}; "
        f"grant enforcement {'on' if book.enforced else 'off'}.",
        "",
        "## Setup facts",
        "",
        "| fact | value |",
        "|---|---|",
        *(f"| {name} | {_cell(value)} |" for name, value in ready.facts.items()),
        "",
        "## Readiness",
        "",
        f"Ready: {'yes' if ready.ready else 'no'}."
        + (f" Missing: {', '.join(ready.missing)}." if ready.missing else ""),
        "",
        "| check | status | verified by | when | how | note |",
        "|---|---|---|---|---|---|",
        *(
            f"| {c.check} | {c.status} | {_cell(c.verified_by)} | "
            f"{_cell(c.verified_at.isoformat() if c.verified_at else None)} | "
            f"{_cell(c.method)} | {_cell(c.note)} |"
            for c in ready.checks
        ),
        "",
        "## SOP versions",
        "",
        "| role | topic | version | published by | change note | current | acknowledged by |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {s.role} | {s.topic} | {s.version} | {_cell(s.published_by)} | "
            f"{_cell(s.change_note)} | {'yes' if s.current else 'no'} | "
            f"{_cell(', '.join(s.acknowledged_by))} |"
            for s in book.sops
        ),
        "",
        "## Grants",
        "",
        "| subject | role | status | granted by | missing |",
        "|---|---|---|---|---|",
        *(
            f"| {_cell(o.subject)} | {g.role} | {g.status} | {_cell(g.granted_by)} | "
            f"{_cell(', '.join(g.missing))} |"
            for o in book.operators
            for g in o.grants
        ),
        "",
        "## Open findings",
        "",
        "| finding | subject | role | topic | kind | cites | note |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {f.finding_id} | {_cell(f.subject)} | {f.role} | {f.topic} | {f.kind} | "
            f"{_cell(', '.join(f.cited_event_ids))} | {_cell(f.note)} |"
            for f in book.open_findings
        ),
        "",
    ]
    return "\n".join(lines)
