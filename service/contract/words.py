"""The words of the document for the plugin author: summaries from the route docstrings (which
are written for them, see STYLE.md), the tags' descriptions, servers, contact and licence."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute

SUMMARY_MAX = 80
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_CLAUSE_END = re.compile(r"(; | \(|: )")

TAGS: list[dict[str, str]] = [
    {"name": "health", "description": "Liveness, readiness and metrics; no token needed."},
    {
        "name": "sites",
        "description": "WordPress sites with the facts the rollout SOP requires, their "
        "recorded changes, recovery paths and the HS256 keys a site's plugin signs with.",
    },
    {
        "name": "workflows",
        "description": "Workflows, runs, approvals and kill switches: what the WordPress plugin "
        "calls before any automation touches a production site.",
    },
    {
        "name": "incidents",
        "description": "Open, review, close and hand off incidents; an incident closes, and the "
        "workflows it paused resume, only when its review is complete.",
    },
    {
        "name": "playbooks",
        "description": "Reuse across an agency's client sites: signed exports without one "
        "client's secrets, imports, local changes, first runs and promotion.",
    },
    {
        "name": "rollout",
        "description": "Operator rollout: role SOPs, acknowledgments, access grants, readiness "
        "checks, the first-week review and the runbook.",
    },
    {
        "name": "read models",
        "description": "Boards and queues kept from the log (site activity, workflows, "
        "approvals, incidents, playbooks); `min_position` reads your own writes.",
    },
    {
        "name": "history",
        "description": "The event log itself, filtered to your sites: pages, a stream's "
        "events, and a streamed export.",
    },
    {
        "name": "audit",
        "description": "For auditors: signed checkpoints, inclusion and consistency proofs, "
        "receipts, the verifiable export, public keys and the C2SP tlog-tiles API.",
    },
    {
        "name": "webhooks",
        "description": "Subscriptions to the log (Standard Webhooks), their deliveries, dead "
        "letters, redelivery and recovery.",
    },
]
SERVERS = [
    {"url": "/", "description": "The ledger that serves this document."},
    {"url": "http://127.0.0.1:8000", "description": "`make run` on your machine."},
]
CONTACT = {"name": "SophMate Ops Ledger", "url": "https://sophmate.dev/"}
LICENSE = {"name": "Apache-2.0", "identifier": "Apache-2.0"}


def summary(route: APIRoute) -> str:
    """The route's own summary, or its docstring's first sentence, cut at a clause when long."""
    if route.summary:
        return route.summary
    text = " ".join((route.endpoint.__doc__ or "").split())
    if not text:
        return (route.operation_id or route.name).replace("-", " ").capitalize()
    first = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".")
    if len(first) <= SUMMARY_MAX:
        return first
    for cut in _CLAUSE_END.finditer(first, 20):
        if cut.start() <= SUMMARY_MAX:
            return first[: cut.start()]
        break
    return first[: first.rfind(" ", 0, SUMMARY_MAX)] + " …"


def success_description(route: APIRoute, command: bool) -> str:
    if command:
        done = "Created" if route.status_code == 201 else "Done"
        if route.status_code == 202:
            done = "Accepted"
        return (
            f"{done}: the events appended, their stream and its new version (also the ETag) "
            "and the global position; an empty `event_ids` when it was already so."
        )
    model: Any = route.response_model
    doc = " ".join((getattr(model, "__doc__", None) or "").split())
    if isinstance(model, type) and doc and not doc.startswith(("Usage docs", "A base class")):
        return _SENTENCE_END.split(doc, maxsplit=1)[0]
    return summary(route) + "."
