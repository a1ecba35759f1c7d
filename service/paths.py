"""The path parameters of every route, each defined once: a route names `SiteId`, never its own
pattern, so one id is refused or accepted the same way on every URL that carries it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from service.workflows.schemas import CATEGORY_PATTERN, ID_PATTERN

SiteId = Annotated[str, Path(pattern=ID_PATTERN, description="A site id.")]
AgencyId = Annotated[str, Path(min_length=1, max_length=200, description="An agency id.")]
WorkflowId = Annotated[str, Path(pattern=ID_PATTERN, description="A workflow id.")]
RunId = Annotated[str, Path(pattern=ID_PATTERN, description="A run id, unique in its workflow.")]
IncidentId = Annotated[str, Path(pattern=ID_PATTERN, description="An incident id.")]
ActionId = Annotated[str, Path(pattern=ID_PATTERN, description="A prevention action's id.")]
HandoffId = Annotated[str, Path(pattern=ID_PATTERN, description="A support handoff's id.")]
PlaybookId = Annotated[str, Path(pattern=ID_PATTERN, description="A playbook id.")]
ChangeId = Annotated[str, Path(pattern=ID_PATTERN, description="A local change's id.")]
Category = Annotated[str, Path(pattern=CATEGORY_PATTERN, description='A category, or "*".')]
StreamId = Annotated[str, Path(min_length=1, max_length=200, description="A stream id.")]
ProjectionName = Annotated[str, Path(min_length=1, max_length=100, description="A read model.")]
SubscriptionId = Annotated[str, Path(pattern=ID_PATTERN, description="A webhook subscription.")]
DeliveryId = Annotated[int, Path(ge=1, le=2**62, description="A webhook delivery's number.")]
LogName = Annotated[
    str, Path(min_length=1, max_length=200, description="An agency id, or `platform`.")
]
