"""HTTP models of the agency playbook catalogue."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from events.domain.workflow_events import Environment
from service.pagination import Page

CONTENT_HASH_EXAMPLE = "sha256:5f1c0a3e9b7d24c86e0f4a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f"


class FirstRunResult(BaseModel):
    """The latest first run of a deployment's current version."""

    run_id: str = Field(examples=["first-run-2026-11-23"])
    succeeded: bool = Field(examples=[True])
    environment: Environment = Field(examples=["staging"])
    read_only: bool = Field(examples=[True])


class PlaybookDeployment(BaseModel):
    """One playbook on one site: a deployment of its lineage."""

    playbook_id: str = Field(examples=["refund-triage"])
    site_id: str | None = Field(examples=["client-shop"])
    agency_id: str | None = Field(examples=["northwind-agency"])
    lineage: str = Field(
        examples=[CONTENT_HASH_EXAMPLE],
        description="The content hash of the playbook's first version, the same on every site.",
    )
    name: str = Field(examples=["Refund request triage"])
    owner: str = Field(examples=["dana@client-shop.example"], description="This site's owner.")
    version: int = Field(
        examples=[1], description="This site's version number (each import counts as one)."
    )
    source_version: int = Field(
        examples=[3],
        description="The version's number on the site it was exported from; for a playbook "
        "registered here, its own version.",
    )
    content_hash: str = Field(examples=[CONTENT_HASH_EXAMPLE])
    imported: bool = Field(examples=[True])
    source_site: str | None = Field(
        examples=["agency-demo-shop"],
        description="The site the imported version was exported from; null for a playbook "
        "registered here.",
    )
    exported_at: datetime | None = Field(
        examples=["2026-11-22T10:00:00Z"],
        description="Imported: when the source site exported this version. Registered here: its "
        "latest export, if any.",
    )
    environment: Environment = Field(examples=["staging"])
    read_only: bool = Field(examples=[True])
    local_changes_open: list[str] = Field(
        examples=[["provider"]], description="Assumptions still to localize before production."
    )
    local_changes_done: list[str] = Field(examples=[["roles"]])
    first_run: FirstRunResult | None = Field(
        description="The current version's first run; null until one is recorded (a new "
        "version needs its own)."
    )
    promotion_approvals: int = Field(
        examples=[0], description="Approvals of the current version for production."
    )
    drift: bool = Field(
        examples=[True],
        description="Runs other content than its lineage's reference version (see the route).",
    )
    last_position: int = Field(examples=[2310])
    updated_at: datetime = Field(examples=["2026-11-23T09:12:40.118000Z"])


class PlaybookLineage(BaseModel):
    """A playbook across the agency's sites: every deployment of one lineage."""

    lineage: str = Field(examples=[CONTENT_HASH_EXAMPLE])
    name: str = Field(examples=["Refund request triage"], description="The reference's name.")
    owner: str = Field(examples=["dana@agency.example"], description="The reference's owner.")
    source_site: str | None = Field(
        examples=["agency-demo-shop"],
        description="Where the lineage was registered, if visible; else where the reference "
        "version was exported from.",
    )
    latest_version: int = Field(examples=[3], description="The reference's version at its source.")
    latest_content_hash: str = Field(
        examples=[CONTENT_HASH_EXAMPLE],
        description="The reference content, which every deployment is compared with (drift).",
    )
    deployments: list[PlaybookDeployment] = Field(description="By site id.")


class AgencyPlaybooks(Page[PlaybookLineage]):
    items: list[PlaybookLineage] = Field(description="By name, one entry per lineage.")


class SitePlaybooks(Page[PlaybookDeployment]):
    items: list[PlaybookDeployment] = Field(description="By name.")
