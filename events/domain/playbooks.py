"""Playbooks: state, evolve, and the deciders that put a version in a playbook's stream (register,
revise) or record one leaving it (export). The import and what follows it on the target site
(local changes, first run, approval, promotion) are decided in playbook_rollout.py; the portable
document is in playbook_format.py.

Every version starts in staging and read-only; production needs a successful first run of that
version, every local change done and a second person's approval (`missing_for_promotion`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import Event
from events.domain.playbook_events import (
    ImportedProvenance,
    LocalChange,
    LocalChangeCompleted,
    PlaybookContent,
    PlaybookExported,
    PlaybookFirstRunRecorded,
    PlaybookImported,
    PlaybookPromoted,
    PlaybookPromotionApproved,
    PlaybookRegistered,
    PlaybookRevised,
)
from events.domain.playbook_format import content_hash
from events.domain.required_text import is_blank, missing_values
from events.domain.workflow_events import Environment
from events.errors import InvalidCommand, NotFound, StateConflict


class TrackedLocalChange(LocalChange):
    completed_by: str | None = None

    @property
    def done(self) -> bool:
        return self.completed_by is not None


class FirstRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    succeeded: bool
    environment: Environment
    read_only: bool


class Playbook(BaseModel):
    model_config = ConfigDict(frozen=True)

    playbook_id: str | None = None
    site_id: str = ""
    owner: str = ""
    content: PlaybookContent | None = None
    content_hash: str = ""
    version: int = 0
    lineage: str = ""
    """The content hash of the first version; for an import, the lineage its provenance carries."""
    defined_by: str = ""
    """Who registered, revised or imported the current version: never its second person."""
    environment: Environment = "staging"
    read_only: bool = True
    imported: bool = False
    provenance: ImportedProvenance | None = None
    local_changes: tuple[TrackedLocalChange, ...] = ()
    first_run: FirstRun | None = None
    """The latest first run of the current version; a later failure undoes an earlier success."""
    promotion_approvals: tuple[str, ...] = ()
    """Who approved the current version for production."""
    export_ids: tuple[str, ...] = ()

    @property
    def registered(self) -> bool:
        return self.playbook_id is not None

    def open_local_changes(self) -> list[str]:
        return [change.change_id for change in self.local_changes if not change.done]


def evolve(playbook: Playbook, event: Event) -> Playbook:
    if isinstance(event, PlaybookRegistered):
        return Playbook(
            playbook_id=event.playbook_id,
            site_id=event.site_id,
            owner=event.owner,
            content=event.content,
            content_hash=event.content_hash,
            version=event.version,
            lineage=event.content_hash,
            defined_by=event.registered_by,
        )
    if isinstance(event, PlaybookRevised):
        update = {
            "content": event.content,
            "content_hash": event.content_hash,
            "version": event.version,
            "defined_by": event.revised_by,
            # A new version has not run and no one has approved it; its local changes stay.
            "environment": "staging",
            "read_only": True,
            "first_run": None,
            "promotion_approvals": (),
        }
        return playbook.model_copy(update=update)
    if isinstance(event, PlaybookImported):
        return _imported(playbook, event)
    if isinstance(event, PlaybookExported):
        return playbook.model_copy(update={"export_ids": (*playbook.export_ids, event.export_id)})
    return _evolve_promotion(playbook, event)


def _imported(playbook: Playbook, event: PlaybookImported) -> Playbook:
    changes = tuple(
        TrackedLocalChange.model_validate(change.model_dump()) for change in event.local_changes
    )
    return Playbook(
        playbook_id=event.playbook_id,
        site_id=event.site_id,
        owner=event.owner,
        content=event.content,
        content_hash=event.content_hash,
        version=event.version,
        lineage=event.provenance.lineage,
        defined_by=event.imported_by,
        imported=True,
        provenance=event.provenance,
        local_changes=changes,
        export_ids=playbook.export_ids,
    )


def _evolve_promotion(playbook: Playbook, event: Event) -> Playbook:
    if isinstance(event, LocalChangeCompleted):
        changes = tuple(
            change.model_copy(update={"completed_by": event.completed_by})
            if change.change_id == event.change_id
            else change
            for change in playbook.local_changes
        )
        return playbook.model_copy(update={"local_changes": changes})
    if isinstance(event, PlaybookFirstRunRecorded) and event.content_hash == playbook.content_hash:
        run = FirstRun(
            run_id=event.run_id,
            succeeded=event.succeeded,
            environment=event.environment,
            read_only=event.read_only,
        )
        return playbook.model_copy(update={"first_run": run})
    if isinstance(event, PlaybookPromotionApproved) and event.content_hash == playbook.content_hash:
        approvals = (*playbook.promotion_approvals, event.approved_by)
        return playbook.model_copy(update={"promotion_approvals": approvals})
    if isinstance(event, PlaybookPromoted):
        return playbook.model_copy(update={"environment": "production", "read_only": False})
    return playbook


PLAYBOOKS = Aggregate(stream_type="playbook", initial=Playbook(), evolve=evolve)


def registered_id(playbook: Playbook) -> str:
    if playbook.playbook_id is None:
        raise NotFound("playbook not found")
    return playbook.playbook_id


def missing_in_content(content: PlaybookContent, prefix: str = "") -> list[str]:
    """Every gap in a playbook's content, as `missing` paths, all at once."""
    missing = ["name"] if is_blank(content.name) else []
    if not content.steps:
        missing.append("steps")
    step_ids: set[str] = set()
    for index, step in enumerate(content.steps):
        if is_blank(step.step_id) or step.step_id in step_ids:
            missing.append(f"steps[{index}].step_id")
        step_ids.add(step.step_id)
        missing += [
            f"steps[{index}].{name}" for name in ("title", "prompt_template")
            if is_blank(getattr(step, name))
        ]  # fmt: skip
    names: set[str] = set()
    for index, field in enumerate(content.inputs):
        if is_blank(field.name) or field.name in names:
            missing.append(f"inputs[{index}].name")
        names.add(field.name)
        if field.type == "choice" and not field.choices:
            missing.append(f"inputs[{index}].choices")
    boundaries = content.approval_boundaries
    missing += [
        f"approval_boundaries.steps_requiring_approval[{index}]"
        for index, step_id in enumerate(boundaries.steps_requiring_approval)
        if step_id not in step_ids
    ]
    side_effects = any(step.writes_data or step.contacts_customers for step in content.steps)
    if side_effects and boundaries.approvals_required < 1:
        missing.append("approval_boundaries.approvals_required")
    return [f"{prefix}{path}" for path in missing]


class RegisterPlaybook(BaseModel):
    model_config = ConfigDict(frozen=True)

    playbook_id: str
    site_id: str
    owner: str
    content: PlaybookContent
    actor: str


def decide_register(playbook: Playbook, cmd: RegisterPlaybook) -> list[Event]:
    if playbook.registered:
        raise StateConflict(f"playbook {cmd.playbook_id} is already registered")
    if cmd.playbook_id.startswith("imp-"):
        # Reserved for imports (playbook_rollout.imported_playbook_id): no squatting on them.
        raise InvalidCommand("ids starting with imp- are kept for imports", missing=["playbook_id"])
    missing = missing_values({"owner": cmd.owner}) + missing_in_content(cmd.content)
    if missing:
        raise InvalidCommand("a playbook needs its owner and full content", missing=missing)
    return [
        PlaybookRegistered(
            playbook_id=cmd.playbook_id,
            site_id=cmd.site_id,
            owner=cmd.owner,
            content=cmd.content,
            content_hash=content_hash(cmd.content),
            registered_by=cmd.actor,
        )
    ]


def decide_revise(playbook: Playbook, content: PlaybookContent, actor: str) -> list[Event]:
    playbook_id = registered_id(playbook)
    missing = missing_in_content(content)
    if missing:
        raise InvalidCommand("a revision needs the full playbook content", missing=missing)
    new_hash = content_hash(content)
    if new_hash == playbook.content_hash:
        raise StateConflict(f"playbook {playbook_id} already has this content")
    return [
        PlaybookRevised(
            playbook_id=playbook_id,
            content=content,
            content_hash=new_hash,
            version=playbook.version + 1,
            revised_by=actor,
        )
    ]


def decide_export(
    playbook: Playbook, export_id: str, actor: str, exported_at: datetime, kid: str
) -> list[Event]:
    """Records an export; the document is built by playbook_format.build_export and signed and
    scanned at the edge. Allowed in any environment: the document carries the version and the
    lineage, and an import starts in staging whatever the source runs."""
    playbook_id = registered_id(playbook)
    if export_id in playbook.export_ids:
        raise StateConflict(f"export {export_id} is already recorded")
    return [
        PlaybookExported(
            playbook_id=playbook_id,
            export_id=export_id,
            content_hash=playbook.content_hash,
            version=playbook.version,
            exported_by=actor,
            exported_at=exported_at,
            kid=kid,
        )
    ]
