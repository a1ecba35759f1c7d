"""Given events for the playbook decider tests: a registered playbook, its export, its import."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from events.catalogue import Event
from events.domain.playbook_events import (
    PlaybookAssumptions,
    PlaybookContent,
)
from events.domain.playbook_format import PlaybookExport, build_export, signed
from events.domain.playbook_rollout import (
    ImportPlaybook,
    RecordFirstRun,
    decide_approve_promotion,
    decide_complete_local_change,
    decide_import,
    decide_record_first_run,
)
from events.domain.playbooks import (
    PLAYBOOKS,
    Playbook,
    RegisterPlaybook,
    decide_register,
)

PB, SOURCE, TARGET = "pb-refunds", "agency-demo-shop", "client-shop"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ASSUMES = {"provider": "openai", "roles": ["shop_manager"], "product_language": "en-GB"}
TARGET_FACTS = PlaybookAssumptions(provider="anthropic", roles=("shop_manager", "editor"))


def content(**overrides: Any) -> PlaybookContent:
    fields: dict[str, Any] = {
        "name": "Refund request triage",
        "steps": [
            {"step_id": "read", "title": "Read", "prompt_template": "Summarise {{order}}"},
            {
                "step_id": "reply",
                "title": "Reply",
                "prompt_template": "Answer in {{tone}}",
                "tool": "send_email",
                "contacts_customers": True,
            },
        ],
        "inputs": [{"name": "tone", "type": "choice", "choices": ["warm", "formal"]}],
        "approval_boundaries": {"approvals_required": 1, "steps_requiring_approval": ["reply"]},
        "assumptions": ASSUMES,
        **overrides,
    }
    return PlaybookContent.model_validate(fields)


CONTENT = content()


def fold(events: Iterable[Event]) -> Playbook:
    return PLAYBOOKS.fold(events)


def register_cmd(body: PlaybookContent = CONTENT, owner: str = "dana") -> RegisterPlaybook:
    return RegisterPlaybook(playbook_id=PB, site_id=SOURCE, owner=owner, content=body, actor="dana")


REGISTERED = decide_register(Playbook(), register_cmd())


def exported(given: list[Event], export_id: str = "exp-1") -> PlaybookExport:
    return signed(build_export(fold(given), NOW, export_id), kid="ledger-1", value="c2ln")


def import_cmd(document: PlaybookExport | None = None, **overrides: Any) -> ImportPlaybook:
    fields = {"playbook_id": "imp-1", "site_id": TARGET, "owner": "omar",
              "document": document or exported(REGISTERED), "target_facts": TARGET_FACTS,
              "actor": "omar", **overrides}  # fmt: skip
    return ImportPlaybook.model_validate(fields)


IMPORTED = decide_import(Playbook(), import_cmd())


def first_run(succeeded: bool = True, run_id: str = "run-1", **where: Any) -> RecordFirstRun:
    fields = {"environment": "staging", "read_only": True, **where}
    return RecordFirstRun(run_id=run_id, succeeded=succeeded, summary="3 refunds triaged",
                          actor="omar", **fields)  # fmt: skip


def localised(given: list[Event]) -> list[Event]:
    """The import with every local change done."""
    events = list(given)
    for change in fold(events).open_local_changes():
        events += decide_complete_local_change(fold(events), change, "omar", "localized")
    return events


def ready(given: list[Event]) -> list[Event]:
    """The import with every local change done, a successful first run and an approval."""
    events = localised(given)
    events += decide_record_first_run(fold(events), first_run())
    return events + decide_approve_promotion(fold(events), "priya")
