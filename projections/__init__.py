"""Read models built from the event log (projections), their runner and rebuilds."""

from __future__ import annotations

from projections.approval_queue import ApprovalQueue
from projections.base import Projection
from projections.incident_board import IncidentBoard
from projections.playbook_catalogue import PlaybookCatalogue
from projections.prevention_actions import PreventionActions
from projections.rollout_sites import RolloutSites
from projections.site_activity import SiteActivity
from projections.stream_heads import StreamHeads
from projections.workflow_board import WorkflowBoard

ALL: tuple[Projection, ...] = (
    SiteActivity(),
    StreamHeads(),
    WorkflowBoard(),
    ApprovalQueue(),
    IncidentBoard(),
    PreventionActions(),
    PlaybookCatalogue(),
    RolloutSites(),
)
"""Every projection of the service, by which the runners, rebuilds and /readyz are driven."""


INLINE: tuple[Projection, ...] = tuple(p for p in ALL if p.inline)


def by_name(name: str) -> Projection:
    for projection in ALL:
        if projection.name == name:
            return projection
    raise KeyError(name)
