"""Playbook reads folded from the playbook's own stream."""

from __future__ import annotations

from events.domain.playbook_rollout import missing_for_promotion
from events.domain.playbooks import Playbook
from events.errors import NotFound
from service.attempts import Loaded
from service.playbooks.schemas import PlaybookView


def playbook_view(loaded: Loaded[Playbook]) -> PlaybookView:
    playbook = loaded.state
    if playbook.playbook_id is None or playbook.content is None:
        raise NotFound("playbook not found")
    return PlaybookView(
        playbook_id=playbook.playbook_id,
        site_id=playbook.site_id,
        owner=playbook.owner,
        content=playbook.content,
        content_hash=playbook.content_hash,
        version=playbook.version,
        lineage=playbook.lineage,
        environment=playbook.environment,
        read_only=playbook.read_only,
        imported=playbook.imported,
        provenance=playbook.provenance,
        local_changes=[
            {**change.model_dump(mode="json"), "done": change.done}
            for change in playbook.local_changes
        ],
        first_run=playbook.first_run.model_dump(mode="json") if playbook.first_run else None,
        promotion_approvals=list(playbook.promotion_approvals),
        missing_for_promotion=missing_for_promotion(playbook),
        stream_version=loaded.version,
    )
