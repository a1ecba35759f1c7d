"""The portable playbook document ("sophmate-playbook/1"), pure: its models and JSON Schema, the
content hash, the bytes the ledger signs, and the local changes an import requires.

Signing and verifying need the ledger's key and happen at the HTTP edge; so does the redaction
scan, which runs over the whole document (keys included) before an export leaves or an import
enters. This module only gives the shape and the bytes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from events.domain.playbook_events import (
    ASSUMPTION_FIELDS,
    LocalChange,
    PlaybookAssumptions,
    PlaybookContent,
    PlaybookProvenance,
)
from events.domain.required_text import is_blank
from events.envelope import canonical_json
from events.errors import NotFound

if TYPE_CHECKING:
    # Only for the annotation: playbooks.py imports this module for the content hash.
    from events.domain.playbooks import Playbook

FORMAT: Final = "sophmate-playbook/1"
SCHEMA_ID = "urn:sophmate:schema:sophmate-playbook:1"
SIGNATURE_ALG: Final = "EdDSA"
HASH_PREFIX = "sha256:"


def content_hash(content: PlaybookContent) -> str:
    """The version's identity: the same content hashes the same whatever its key order."""
    digest = hashlib.sha256(canonical_json(content.model_dump(mode="json"))).hexdigest()
    return f"{HASH_PREFIX}{digest}"


class PlaybookSignature(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    alg: Literal["EdDSA"]
    kid: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    """Which of the ledger's keys signed; an import verifies with the same key."""
    value: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    """base64url without padding, over `signing_input` of the document."""


class UnsignedPlaybookExport(BaseModel):
    """The document before the ledger signs it: exactly what the signature covers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["sophmate-playbook/1"]
    content: PlaybookContent
    provenance: PlaybookProvenance


class PlaybookExport(UnsignedPlaybookExport):
    """A signed playbook export, as published and as accepted by import."""

    signature: PlaybookSignature


SIGNED_FIELDS = {"format", "content", "provenance"}


def signing_input(document: UnsignedPlaybookExport) -> bytes:
    """The bytes the signature covers: canonical JSON of format, content and provenance. A signed
    document gives the same bytes: its signature is left out."""
    return canonical_json(document.model_dump(mode="json", include=SIGNED_FIELDS))


def signed(document: UnsignedPlaybookExport, kid: str, value: str) -> PlaybookExport:
    return PlaybookExport(
        format=document.format,
        content=document.content,
        provenance=document.provenance,
        signature=PlaybookSignature(alg=SIGNATURE_ALG, kid=kid, value=value),
    )


def export_json_schema() -> dict[str, Any]:
    """The published JSON Schema of a signed document (draft 2020-12)."""
    schema = PlaybookExport.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": f"SophMate playbook export ({FORMAT})",
    }


def build_export(
    playbook: Playbook, exported_at: datetime, export_id: str
) -> UnsignedPlaybookExport:
    """The document for the playbook's current version. Nothing site-local goes in: not the
    playbook's id, not its runs, no actor but the owner; the content goes as it is, and the edge
    refuses the export if the redaction scan finds anything in it."""
    if playbook.content is None:
        raise NotFound("playbook not found")
    provenance = PlaybookProvenance(
        source_site=playbook.site_id,
        lineage=playbook.lineage,
        exported_at=exported_at,
        version=playbook.version,
        owner=playbook.owner,
        content_hash=playbook.content_hash,
        export_id=export_id,
    )
    return UnsignedPlaybookExport(format=FORMAT, content=playbook.content, provenance=provenance)


def _stated(value: JsonValue) -> bool:
    return not is_blank(value)


def _met(assumed: JsonValue, target: JsonValue) -> bool:
    """A list assumption is met when the site has every item assumed, in any order, whatever else
    it has: a site with more Knowledge Base sources or roles needs no change."""
    if isinstance(assumed, list) and isinstance(target, list):
        return {str(item) for item in assumed} <= {str(item) for item in target}
    return assumed == target


def local_changes(
    assumptions: PlaybookAssumptions, target_facts: PlaybookAssumptions
) -> list[LocalChange]:
    """Every assumption the playbook states, compared with what the target site states: adapt
    where the site differs, confirm where the site states nothing, no change where it matches."""
    assumed_all, target_all = (
        assumptions.model_dump(mode="json"),
        target_facts.model_dump(mode="json"),
    )
    changes: list[LocalChange] = []
    for name in ASSUMPTION_FIELDS:
        assumed, target = assumed_all[name], target_all[name]
        if not _stated(assumed):
            continue
        if not _stated(target):
            changes.append(LocalChange(change_id=name, assumption=assumed, action="confirm"))
        elif not _met(assumed, target):
            changes.append(
                LocalChange(change_id=name, assumption=assumed, target=target, action="adapt")
            )
    return changes
