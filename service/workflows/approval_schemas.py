"""The body of approve-run: optional, so a plugin that approves with no body keeps working."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from service.redaction_gate import CommandBody


class ApproveRunBody(CommandBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "checked the 14 drafts in staging"}]},
    )

    reason: str | None = Field(
        None,
        max_length=2000,
        description="Why you approve. Recorded with the approval (the event's metadata "
        "`reason`) and shown in the history.",
    )
