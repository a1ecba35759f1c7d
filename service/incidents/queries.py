"""Incident reads folded from the incident's own stream: current without a projection."""

from __future__ import annotations

from events.catalogue import CATALOGUE
from events.domain.incident_events import SupportHandoffCreated
from events.domain.incidents import Incident
from events.errors import NotFound
from service.attempts import Loaded
from service.incidents import handoff
from service.incidents.schemas import HandoffView, IncidentTimeline, IncidentView, TimelineEntry
from service.pagination import CursorCodec, VersionKey


def incident_view(loaded: Loaded[Incident]) -> IncidentView:
    incident = loaded.state
    if incident.incident_id is None or incident.site_id is None:
        raise NotFound("incident not found")
    return IncidentView(
        incident_id=incident.incident_id,
        site_id=incident.site_id,
        facts=incident.facts,
        linked=incident.linked,
        status="closed" if incident.closed else "open",
        escalation=incident.escalation,
        root_cause=incident.root_cause,
        prevention_actions=[
            {**action.model_dump(mode="json"), "completed": action.completed}
            for action in incident.prevention_actions
        ],
        regression_passed=incident.regression_passed,
        restart_criteria=incident.restart_criteria,
        missing_for_close=incident.missing_for_close(),
        restart_blockers=incident.restart_blockers(),
        version=loaded.version,
    )


INCIDENT_TIMELINE = CursorCodec("get-incident-timeline", VersionKey)


def timeline(loaded: Loaded[Incident], after: VersionKey | None, limit: int) -> IncidentTimeline:
    """A page of the incident's events, oldest first. The stream is bounded by the incident
    and already folded, so the page is cut from it by version."""
    entries = [
        (
            VersionKey(version=event.stream_version),
            TimelineEntry(
                version=event.stream_version,
                event_id=str(event.event_id),
                type=event.type,
                recorded_at=event.recorded_at,
                actor=event.metadata.get("actor"),
                data=event.data,
            ),
        )
        for event in loaded.events
        if after is None or event.stream_version > after.version
    ]
    items, next_cursor = INCIDENT_TIMELINE.page(entries[: limit + 1], limit)
    return IncidentTimeline(items=items, next_cursor=next_cursor, limit=limit)


def support_handoff(loaded: Loaded[Incident], handoff_id: str) -> HandoffView:
    """The report as it was shared, and whether it still has the hash recorded with it."""
    for stored in loaded.events:
        event = CATALOGUE.decode(stored)
        if isinstance(event, SupportHandoffCreated) and event.handoff_id == handoff_id:
            report = event.report or {}
            return HandoffView(
                handoff_id=handoff_id,
                report_sha256=event.report_sha256,
                verified=handoff.report_sha256(report) == event.report_sha256,
                report=report,
                markdown=handoff.render_markdown(report) if report else "",
            )
    raise NotFound("handoff not found")
