"""Read models built from the event log (projections), their runner and rebuilds."""

from __future__ import annotations

from projections.base import Projection
from projections.site_activity import SiteActivity
from projections.stream_heads import StreamHeads

ALL: tuple[Projection, ...] = (SiteActivity(), StreamHeads())
"""Every projection of the service, by which the runners, rebuilds and /readyz are driven."""


INLINE: tuple[Projection, ...] = tuple(p for p in ALL if p.inline)


def by_name(name: str) -> Projection:
    for projection in ALL:
        if projection.name == name:
            return projection
    raise KeyError(name)
