"""HTTP models of the playbooks API. The examples are one playbook's life: registered on one
client site, exported, imported into a sibling site of the same agency."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from events.domain.playbook_events import (
    LocalChange,
    PlaybookAssumptions,
    PlaybookContent,
    PlaybookInput,
    PlaybookProvenance,
    PlaybookStep,
)
from events.domain.playbook_format import FORMAT, content_hash
from events.domain.workflow_events import Environment
from service.command import CommandResult
from service.contract.text import RequiredParts, RequiredText
from service.redaction_gate import SecretFreeBody
from service.workflows.schemas import ID_PATTERN

TEXT = 4000

CONTENT_EXAMPLE: dict[str, Any] = {
    "name": "Abandoned cart follow-up",
    "description": "Drafts a friendly reminder for carts left for 24 hours.",
    "steps": [
        {
            "step_id": "select-carts",
            "title": "Select carts",
            "prompt_template": "List carts older than {{hours}} hours with a known customer.",
            "tool": "woocommerce.carts",
        },
        {
            "step_id": "draft-reminder",
            "title": "Draft the reminder",
            "prompt_template": "Write a short reminder in {{language}}; offer {{coupon}}.",
            "contacts_customers": True,
        },
    ],
    "inputs": [
        {"name": "hours", "type": "number", "required": True, "default": 24},
        {"name": "coupon", "type": "string", "description": "a coupon code allowed by policy"},
    ],
    "approval_boundaries": {
        "approvals_required": 1,
        "steps_requiring_approval": ["draft-reminder"],
    },
    "assumptions": {
        "provider": "openai",
        "knowledge_base_sources": ["shipping-policy"],
        "roles": ["store_manager"],
        "approval_policy": "manager-approves-messages",
        "product_language": "en",
        "coupon_rules": "max-10-percent",
        "order_status_conventions": ["pending", "processing"],
        "support_ownership": "support-lead",
    },
}
_EXAMPLE_HASH = content_hash(PlaybookContent.model_validate(CONTENT_EXAMPLE))
DOCUMENT_EXAMPLE: dict[str, Any] = {
    "format": FORMAT,
    "content": CONTENT_EXAMPLE,
    "provenance": {
        "source_site": "acme-shop",
        "lineage": _EXAMPLE_HASH,
        "exported_at": "2026-11-22T09:00:00Z",
        "version": 1,
        "owner": "dana@acme.example",
        "content_hash": _EXAMPLE_HASH,
        "export_id": "cart-followup-v1",
    },
    "signature": {"alg": "EdDSA", "kid": "playbooks-0123456789abcdef", "value": "c2lnbmF0dXJl"},
}
TARGET_FACTS_EXAMPLE: dict[str, Any] = {
    "provider": "anthropic",
    "knowledge_base_sources": ["shipping-policy", "returns"],
    "roles": ["store_manager"],
    "product_language": "de",
}


def _example(**example: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


class NewPlaybookStep(PlaybookStep):
    """Unique `step_id`s too, which a schema cannot say (`missing: ["steps[1].step_id"]`)."""

    step_id: RequiredText
    title: RequiredText
    prompt_template: RequiredText


class NewPlaybookInput(RequiredParts, PlaybookInput):
    """A `choice` input lists its choices. Unique names too, which a schema cannot say."""

    rules = (
        {
            "anyOf": [
                {"properties": {"type": {"not": {"const": "choice"}}}},
                {"required": ["choices"], "properties": {"choices": {"minItems": 1}}},
            ]
        },
    )
    name: RequiredText


class NewPlaybookContent(RequiredParts, PlaybookContent):
    """A step at least, and an approval when a step writes data or contacts customers
    (events/domain/playbooks.py, `missing_in_content`). A schema cannot say that step ids and
    input names are unique, nor that `steps_requiring_approval` names steps of this playbook."""

    rules = (
        {
            "anyOf": [
                {
                    "properties": {
                        "steps": {
                            "items": {
                                "properties": {
                                    "writes_data": {"const": False},
                                    "contacts_customers": {"const": False},
                                }
                            }
                        }
                    }
                },
                {
                    "required": ["approval_boundaries"],
                    "properties": {
                        "approval_boundaries": {
                            "required": ["approvals_required"],
                            "properties": {"approvals_required": {"minimum": 1}},
                        }
                    },
                },
            ]
        },
    )
    name: Annotated[RequiredText, Field(max_length=200)]
    steps: tuple[NewPlaybookStep, ...] = Field(json_schema_extra={"minItems": 1})
    inputs: tuple[NewPlaybookInput, ...] = ()


class RegisterPlaybookBody(SecretFreeBody):
    model_config = _example(
        playbook_id="cart-followup",
        site_id="acme-shop",
        owner="dana@acme.example",
        content=CONTENT_EXAMPLE,
    )

    playbook_id: str = Field(pattern=ID_PATTERN)
    site_id: str = Field(pattern=ID_PATTERN)
    owner: Annotated[RequiredText, Field(max_length=200)]
    content: NewPlaybookContent


class RevisePlaybookBody(SecretFreeBody):
    model_config = _example(content=CONTENT_EXAMPLE)

    content: NewPlaybookContent


class ExportPlaybookBody(SecretFreeBody):
    model_config = _example(export_id="cart-followup-v1")

    export_id: str = Field(pattern=ID_PATTERN)


class ImportPlaybookBody(SecretFreeBody):
    model_config = _example(
        document=DOCUMENT_EXAMPLE, owner="lee@globex.example", target_facts=TARGET_FACTS_EXAMPLE
    )

    document: dict[str, JsonValue] = Field(
        description="A signed export, exactly as export-playbook gave it (format "
        f"{FORMAT}; its JSON Schema is at /v1/playbook-exports/schema)."
    )
    owner: RequiredText = Field(max_length=200, description="Who owns the playbook on this site.")
    target_facts: PlaybookAssumptions = Field(
        PlaybookAssumptions(),
        description="This site's provider, Knowledge Base sources, roles, policies and "
        "conventions; every assumption of the playbook is compared with them.",
    )


class CompleteLocalChangeBody(SecretFreeBody):
    model_config = _example(note="provider switched to anthropic in the playbook's settings")

    note: str | None = Field(None, max_length=TEXT)


class RecordFirstRunBody(SecretFreeBody):
    model_config = _example(
        run_id="first-2026-11-23",
        succeeded=True,
        summary="12 reminders drafted in German, none sent (read-only)",
        environment="staging",
        read_only=True,
    )

    run_id: str = Field(pattern=ID_PATTERN)
    succeeded: bool
    summary: RequiredText = Field(max_length=TEXT)
    environment: Environment | None = Field(None, description="Default: the playbook's own.")
    read_only: bool | None = Field(None, description="Default: the playbook's own.")


class ExportResult(CommandResult):
    document: dict[str, Any] = Field(description="The signed document, to hand to an import.")


class ImportResult(CommandResult):
    playbook_id: str = Field(examples=["globex-store.3f9a2c1b7d4e5f60"])
    imported: bool = Field(description="False when this site already runs this content.")
    local_changes: list[LocalChange]


class PlaybookView(BaseModel):
    playbook_id: str
    site_id: str
    owner: str
    content: PlaybookContent
    content_hash: str
    version: int
    lineage: str
    environment: Environment
    read_only: bool
    imported: bool
    provenance: PlaybookProvenance | None
    local_changes: list[dict[str, Any]]
    first_run: dict[str, Any] | None
    promotion_approvals: list[str]
    missing_for_promotion: list[str]
    stream_version: int
