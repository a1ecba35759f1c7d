"""The handoff's Markdown escapes what came from users: no heading, link, image, HTML, table or
list can be injected through a fact, a reason or evidence, and evidence cannot leave its fence."""

from __future__ import annotations

from typing import Any

from service.incidents.handoff import FORMAT, render_markdown

INJECTED = (
    "ok\n# Fake heading\n[click](https://evil.example/x) ![img](https://evil.example/i.png)"
    " <script>alert(1)</script> | a | b | **bold** https://evil.example"
)


def report(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "format": FORMAT,
        "handoff_id": "h1",
        "incident_id": "inc-1",
        "generated_at": "2026-11-22T10:00:00+00:00",
        "severity": "high",
        "summary": INJECTED,
        "occurred_at": "2026-11-22T01:12:09+00:00",
        "affected_screen": INJECTED,
        "versions": {"sophmate": "4.2.1", "wordpress": "6.7.1", "php": "8.2"},
        "reproduction_steps": INJECTED,
        "escalation": {"target": "hosting", "reason": INJECTED},
        "evidence": [
            {"evidence_id": "e1", "content": "````\n# out of the fence?\n````", "masked": []}
        ],
    }
    return base | overrides


def outside_fences(markdown: str) -> list[str]:
    lines, fence = [], ""
    for line in markdown.splitlines():
        if fence and line == fence:
            fence = ""
        elif not fence and line.startswith("```"):
            fence = line
        elif not fence:
            lines.append(line)
    return lines


def test_no_user_text_becomes_markdown_structure() -> None:
    markdown = render_markdown(report())
    headings = [line for line in outside_fences(markdown) if line.startswith("#")]
    assert headings == [
        "# Support handoff h1: incident inc\\-1",
        "## Summary",
        "## Reproduction steps",
        "## Evidence",
        "### e1 (masked: nothing)",
    ]
    for raw in ("[click](", "![img](", "<script>", "| a |", "**bold**", "https://evil"):
        assert raw not in markdown, raw
    assert "\\# Fake heading" in markdown
    assert "\\<script\\>" in markdown


def test_a_one_line_field_stays_on_its_line() -> None:
    markdown = render_markdown(report())
    (screen,) = [line for line in markdown.splitlines() if line.startswith("- **Affected screen")]
    assert "Fake heading" in screen


def test_evidence_cannot_close_its_fence() -> None:
    lines = render_markdown(report()).splitlines()
    start = lines.index("### e1 (masked: nothing)") + 2
    fence = lines[start]
    assert set(fence) == {"`"}
    assert len(fence) > 4
    assert lines[start + 1 : start + 4] == ["````", "# out of the fence?", "````"]
    assert lines[start + 4] == fence


def test_markers_stay_readable() -> None:
    markdown = render_markdown(report(summary="key [REDACTED:openai_key] rotated"))
    assert "key [REDACTED:openai_key] rotated" in markdown
