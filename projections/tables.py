"""The read models' tables and their rows, declared once as SQLModel table classes.

A projection's tables exist once per generation (`read_models.<name>_g<n>_<table>`, see
`Tables`), so each class here is the template: its table (`read_models.<name>_<table>`) is never
created itself; `creation_ddl` renders a generation's copy of it and `stored_columns` names what
a projection writes. Reads still decode asyncpg Records straight into their HTTP models: through
these classes a page of 100 rows decoded 3 to 25 times slower (SQLModel's validation). The
registry of generations, which the migrations create, is declared in projections/generations.py.
tests/projections/test_table_declarations.py holds the database to these declarations.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import (
    BigInteger,
    Date,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.elements import quoted_name
from sqlmodel import Field, SQLModel

from events.domain.incident_events import IncidentSeverity
from projections.base import SCHEMA, Tables
from projections.columns import MOMENT, TEXTS, generated_field, text_field

DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
SEVERITIES: tuple[str, ...] = get_args(IncidentSeverity)
"""Most severe first: the incident board's order."""


def _schema(table: str, *indexes: Index) -> tuple[Any, ...]:
    """Table arguments: the schema, and indexes named `<table><suffix>` (a generation's copy
    renames them after itself: index names are unique per schema)."""
    for index in indexes:
        index.name = quoted_name(f"{table}{index.name}", None)
    return (*indexes, {"schema": SCHEMA})


class ApprovalQueueRun(SQLModel, table=True):
    """An open run, its approvals so far and the instants the domain computed from them
    (who counts until when, and until when the run has enough), so the queue's query compares
    them with the time it is asked instead of the projection reading the clock."""

    __tablename__ = "approval_queue_runs"
    __table_args__ = _schema(
        "approval_queue_runs",
        Index("_requested_position", "requested_position"),
        # A site's count of runs awaiting approval (its activity) reads only that site's runs.
        Index("_by_site", "site_id"),
    )
    workflow_id: str = text_field(primary_key=True)
    run_id: str = text_field(primary_key=True)
    site_id: str | None = text_field(nullable=True)
    agency_id: str | None = text_field(nullable=True)
    requested_by: str = text_field()
    requester_key: str = text_field()
    requested_at: datetime = Field(sa_type=MOMENT)
    requested_position: int = Field(sa_type=BigInteger)
    approvals: Any = Field(sa_type=postgresql.JSONB)
    approval_revision: int
    approvers: list[str] = Field(sa_type=TEXTS)
    approver_keys: list[str] = Field(sa_type=TEXTS)
    approvers_until: list[datetime] = Field(sa_type=postgresql.ARRAY(MOMENT))
    approved_until: datetime | None = Field(sa_type=MOMENT, nullable=True)


class ApprovalQueueWorkflow(SQLModel, table=True):
    """What the queue needs per workflow, in a row of its own so a batch never reads a
    workflow's other runs: its revision and approvals needed, what the gates read of it
    (category, pause) and what they answer (`halted_by`: while not empty, no run of it is
    approved)."""

    __tablename__ = "approval_queue_workflows"
    __table_args__ = _schema("approval_queue_workflows", Index("_by_site", "site_id"))
    workflow_id: str = text_field(primary_key=True)
    site_id: str | None = text_field(nullable=True)
    category: str | None = text_field(nullable=True)
    paused_by: str | None = text_field(nullable=True)
    revision: int
    approvals_required: int
    halted_by: list[str] = Field(sa_type=TEXTS)


class ApprovalQueueKillSwitches(SQLModel, table=True):
    """A site's kill switches as the domain folds them (events/domain/kill_switches.py)."""

    __tablename__ = "approval_queue_kill_switches"
    __table_args__ = _schema("approval_queue_kill_switches")
    site_id: str = text_field(primary_key=True)
    switches: dict[str, Any] = Field(sa_type=postgresql.JSONB)


class WorkflowBoardRow(SQLModel, table=True):
    """A workflow's card: owner, mode, environment, pause state and its last run."""

    __tablename__ = "workflow_board_workflows"
    __table_args__ = _schema(
        "workflow_board_workflows", Index("_by_site", "site_id", "workflow_id")
    )
    workflow_id: str = text_field(primary_key=True)
    site_id: str | None = text_field(nullable=True)
    agency_id: str | None = text_field(nullable=True)
    category: str | None = text_field(nullable=True)
    owner: str | None = text_field(nullable=True)
    mode: str = text_field()
    environment: str = text_field()
    state: str = text_field()
    paused_by: str | None = text_field(nullable=True)
    pause_reason: str | None = text_field(nullable=True)
    revision: int
    last_run_id: str | None = text_field(nullable=True)
    last_run_result: str | None = text_field(nullable=True)
    last_run_position: int | None = Field(sa_type=BigInteger, nullable=True)
    last_event_position: int = Field(sa_type=BigInteger)
    version: int


def _rank_sql() -> str:
    whens = " ".join(f"WHEN '{severity}' THEN {rank}" for rank, severity in enumerate(SEVERITIES))
    return f"CASE severity {whens} ELSE {len(SEVERITIES)} END"


_BOARD_ORDER = ("status", "severity_rank", "age_from", "incident_id")


class IncidentBoardRow(SQLModel, table=True):
    """An incident on the board; its rank and age are the board's order, computed by Postgres."""

    __tablename__ = "incident_board_incidents"
    __table_args__ = _schema(
        "incident_board_incidents",
        Index("_by_site", "site_id", *_BOARD_ORDER),
        Index("_by_agency", "agency_id", *_BOARD_ORDER),
    )
    incident_id: str = text_field(primary_key=True)
    site_id: str | None = text_field(nullable=True)
    agency_id: str | None = text_field(nullable=True)
    severity: str | None = text_field(nullable=True)
    summary: str | None = text_field(nullable=True)
    occurred_at: datetime | None = Field(sa_type=MOMENT, nullable=True)
    opened_at: datetime = Field(sa_type=MOMENT)
    status: str = text_field()
    escalation: str | None = text_field(nullable=True)
    open_action_ids: list[str] = Field(sa_type=TEXTS)
    actions_total: int
    last_position: int = Field(sa_type=BigInteger)
    actions_open: int = generated_field(Integer, "cardinality(open_action_ids)")
    severity_rank: int = generated_field(SmallInteger, _rank_sql())
    age_from: datetime = generated_field(MOMENT, "coalesce(occurred_at, opened_at)")


class PreventionIncident(SQLModel, table=True):
    """An incident's severity, for the actions that come from it."""

    __tablename__ = "prevention_actions_incidents"
    __table_args__ = _schema(
        "prevention_actions_incidents",
    )
    incident_id: str = text_field(primary_key=True)
    severity: str | None = text_field(nullable=True)


class PreventionActionRow(SQLModel, table=True):
    """A prevention action of an incident, its owner, due date and completion."""

    __tablename__ = "prevention_actions_actions"
    __table_args__ = _schema(
        "prevention_actions_actions",
        Index("_open_by_owner", "owner", "due_on", postgresql_where=text("NOT completed")),
        Index("_by_site", "site_id"),
    )
    incident_id: str = text_field(primary_key=True)
    action_id: str = text_field(primary_key=True)
    site_id: str | None = text_field(nullable=True)
    agency_id: str | None = text_field(nullable=True)
    kind: str = text_field()
    description: str = text_field()
    owner: str = text_field()
    due_on: date = Field(sa_type=Date)
    completed: bool
    completed_by: str | None = text_field(nullable=True)
    incident_severity: str | None = text_field(nullable=True)


class PlaybookCatalogueRow(SQLModel, table=True):
    """A playbook on a site: its lineage, provenance, local changes and promotion state."""

    __tablename__ = "playbook_catalogue_playbooks"
    __table_args__ = _schema(
        "playbook_catalogue_playbooks",
        Index("_by_site", "site_id", "lineage"),
        Index("_by_agency", "agency_id", "lineage"),
    )
    playbook_id: str = text_field(primary_key=True)
    site_id: str | None = text_field(nullable=True)
    agency_id: str | None = text_field(nullable=True)
    name: str = text_field()
    owner: str = text_field()
    lineage: str = text_field()
    version: int
    source_version: int
    content_hash: str = text_field()
    source_content_hash: str = text_field()
    imported: bool
    source_site: str | None = text_field(nullable=True)
    exported_at: datetime | None = Field(sa_type=MOMENT, nullable=True)
    environment: str = text_field()
    read_only: bool
    local_changes_open: list[str] = Field(sa_type=TEXTS)
    local_changes_done: list[str] = Field(sa_type=TEXTS)
    first_run_id: str | None = text_field(nullable=True)
    first_run_succeeded: bool | None = Field(default=None, nullable=True)
    first_run_environment: str | None = text_field(nullable=True)
    first_run_read_only: bool | None = Field(default=None, nullable=True)
    promotion_approvals: int
    last_position: int = Field(sa_type=BigInteger)
    updated_at: datetime = Field(sa_type=MOMENT)


class RolloutSiteRow(SQLModel, table=True):
    """A site's rollout state (SOPs, readiness, acknowledgments, grants) and its site record."""

    __tablename__ = "rollout_sites_sites"
    __table_args__ = _schema(
        "rollout_sites_sites",
        Index("_by_agency", "agency_id", "site_id"),
        # The grant index reloads the enforced sites only.
        Index("_enforced", "site_id", postgresql_where=text("enforced")),
    )
    site_id: str = text_field(primary_key=True)
    agency_id: str | None = text_field(nullable=True)
    version: int
    site_version: int
    enforced: bool
    state: dict[str, Any] = Field(sa_type=postgresql.JSONB)
    site_state: dict[str, Any] = Field(sa_type=postgresql.JSONB)


class SiteActivityRow(SQLModel, table=True):
    """A site's last event, its event count and its open incidents (its runs awaiting approval
    are the approval queue's, counted when asked: service/workflows/board_queries.py)."""

    __tablename__ = "site_activity_sites"
    __table_args__ = _schema("site_activity_sites", Index("_by_agency", "agency_id"))
    site_id: str = text_field(primary_key=True)
    agency_id: str | None = text_field(nullable=True)
    last_position: int = Field(sa_type=BigInteger)
    last_event_type: str = text_field()
    last_event_at: datetime = Field(sa_type=MOMENT)
    event_count: int = Field(sa_type=BigInteger)
    incidents_open: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class SiteActivityDay(SQLModel, table=True):
    """How many events of one type a site had on one day."""

    __tablename__ = "site_activity_daily"
    __table_args__ = _schema(
        "site_activity_daily",
    )
    site_id: str = text_field(primary_key=True)
    day: date = Field(sa_type=Date, primary_key=True)
    type: str = text_field(primary_key=True)
    count: int = Field(sa_type=BigInteger)


class StreamHead(SQLModel, table=True):
    """A stream's current version and last event."""

    __tablename__ = "stream_heads_heads"
    __table_args__ = _schema("stream_heads_heads", Index("_by_site", "site_id", "stream_type"))
    stream_id: str = text_field(primary_key=True)
    stream_type: str = text_field()
    site_id: str | None = text_field(nullable=True)
    agency_id: str | None = text_field(nullable=True)
    version: int
    last_event_type: str = text_field()
    last_position: int = Field(sa_type=BigInteger)
    updated_at: datetime = Field(sa_type=MOMENT)


def generation_table(model: type[SQLModel], name: str, metadata: MetaData) -> Table:
    """A generation's copy of a template table, named `name`, and its indexes after it."""
    template: Table = model.__table__  # type: ignore[attr-defined]
    copy = template.to_metadata(metadata, name=name)
    for index in copy.indexes:
        index.name = quoted_name(f"{name}{str(index.name).removeprefix(template.name)}", None)
    return copy


def stored_columns(model: type[SQLModel]) -> tuple[str, ...]:
    """The columns a projection writes, in order: all but those Postgres computes."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return tuple(column.name for column in table.columns if column.computed is None)


BY_PROJECTION: dict[str, dict[str, type[SQLModel]]] = {
    "approval_queue": {
        "runs": ApprovalQueueRun,
        "workflows": ApprovalQueueWorkflow,
        "kill_switches": ApprovalQueueKillSwitches,
    },
    "workflow_board": {"workflows": WorkflowBoardRow},
    "incident_board": {"incidents": IncidentBoardRow},
    "prevention_actions": {"incidents": PreventionIncident, "actions": PreventionActionRow},
    "playbook_catalogue": {"playbooks": PlaybookCatalogueRow},
    "rollout_sites": {"sites": RolloutSiteRow},
    "site_activity": {"sites": SiteActivityRow, "daily": SiteActivityDay},
    "stream_heads": {"heads": StreamHead},
}
"""Each projection's tables by their short name (the names `Tables` is indexed by)."""


def generation_metadata(tables: Tables, metadata: MetaData) -> list[Table]:
    """One generation's tables from their declarations, added to `metadata`."""
    models = BY_PROJECTION[tables.projection]
    return [generation_table(model, tables.name(t), metadata) for t, model in models.items()]


def creation_ddl(tables: Tables) -> list[str]:
    """The statements that create one generation's tables."""
    statements: list[str] = []
    for table in generation_metadata(tables, MetaData()):
        statements.append(str(CreateTable(table).compile(dialect=DIALECT)))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            statements.append(str(CreateIndex(index).compile(dialect=DIALECT)))
    return statements
