"""The read models' tables and their rows, declared once as SQLModel table classes.

A projection's tables exist once per generation (`read_models.<name>_g<n>_<table>`, see
`Tables`), so each class here is the template: its table (`read_models.<name>_<table>`) is never
created itself; `creation_ddl` renders a generation's copy of it, and a query decodes the rows of
any generation into the class. The projection registry, which the migrations create, is declared
as it is. tests/projections/test_table_declarations.py holds the database to these declarations.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.elements import quoted_name
from sqlalchemy.types import UserDefinedType
from sqlmodel import Field, SQLModel

from events.domain.incident_events import IncidentSeverity
from projections.base import SCHEMA, Tables

DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
TEXTS = postgresql.ARRAY(Text)
MOMENT = DateTime(timezone=True)
SEVERITIES: tuple[str, ...] = get_args(IncidentSeverity)
"""Most severe first: the incident board's order."""


class Xid8(UserDefinedType[int]):
    """Postgres's 64-bit transaction id (commit-safe read order); read as text, then int."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


def _schema(table: str, *indexes: Index) -> tuple[Any, ...]:
    """Table arguments: the schema, and indexes named `<table><suffix>` (a generation's copy
    renames them after itself: index names are unique per schema)."""
    for index in indexes:
        index.name = quoted_name(f"{table}{index.name}", None)
    return (*indexes, {"schema": SCHEMA})


def _text(nullable: bool = False, **kwargs: Any) -> Any:
    return Field(sa_type=Text, nullable=nullable, **kwargs)


def _generated(sql_type: Any, expression: str) -> Any:
    return Field(sa_column=Column(sql_type, Computed(expression, persisted=True)))


class ProjectionGenerationRow(SQLModel, table=True):
    """A copy of a read model: which is live, and how far it has read (its checkpoint)."""

    __tablename__ = "projection_generations"
    __table_args__ = (
        CheckConstraint("status IN ('building', 'live', 'retired')"),
        Index("projection_one_live", "name", unique=True, postgresql_where=text("status = 'live'")),
        {"schema": SCHEMA},
    )
    name: str = _text(primary_key=True)
    generation: int = Field(primary_key=True)
    version: int
    status: str = _text()
    transaction_id: int = Field(sa_type=Xid8, sa_column_kwargs={"server_default": "0"})
    position: int = Field(sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    events_applied: int = Field(sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(sa_type=MOMENT, sa_column_kwargs={"server_default": text("now()")})
    updated_at: datetime = Field(sa_type=MOMENT, sa_column_kwargs={"server_default": text("now()")})


class ApprovalQueueRun(SQLModel, table=True):
    """An open run and its approvals so far; `waiting` while it has fewer than it needs."""

    __tablename__ = "approval_queue_runs"
    __table_args__ = _schema(
        "approval_queue_runs",
        Index("_waiting", "requested_position", postgresql_where=text("waiting")),
    )
    workflow_id: str = _text(primary_key=True)
    run_id: str = _text(primary_key=True)
    site_id: str | None = _text(nullable=True)
    agency_id: str | None = _text(nullable=True)
    requested_by: str = _text()
    requested_at: datetime = Field(sa_type=MOMENT)
    requested_position: int = Field(sa_type=BigInteger)
    approvals_required: int
    approvals: list[str] = Field(sa_type=TEXTS)
    waiting: bool = _generated(Boolean, "cardinality(approvals) < approvals_required")


class WorkflowBoardRow(SQLModel, table=True):
    """A workflow's card: owner, mode, environment, pause state and its last run."""

    __tablename__ = "workflow_board_workflows"
    __table_args__ = _schema(
        "workflow_board_workflows", Index("_by_site", "site_id", "workflow_id")
    )
    workflow_id: str = _text(primary_key=True)
    site_id: str | None = _text(nullable=True)
    agency_id: str | None = _text(nullable=True)
    category: str | None = _text(nullable=True)
    owner: str | None = _text(nullable=True)
    mode: str = _text()
    environment: str = _text()
    state: str = _text()
    paused_by: str | None = _text(nullable=True)
    pause_reason: str | None = _text(nullable=True)
    revision: int
    last_run_id: str | None = _text(nullable=True)
    last_run_result: str | None = _text(nullable=True)
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
    incident_id: str = _text(primary_key=True)
    site_id: str | None = _text(nullable=True)
    agency_id: str | None = _text(nullable=True)
    severity: str | None = _text(nullable=True)
    summary: str | None = _text(nullable=True)
    occurred_at: datetime | None = Field(sa_type=MOMENT, nullable=True)
    opened_at: datetime = Field(sa_type=MOMENT)
    status: str = _text()
    escalation: str | None = _text(nullable=True)
    open_action_ids: list[str] = Field(sa_type=TEXTS)
    actions_total: int
    last_position: int = Field(sa_type=BigInteger)
    actions_open: int = _generated(Integer, "cardinality(open_action_ids)")
    severity_rank: int = _generated(SmallInteger, _rank_sql())
    age_from: datetime = _generated(MOMENT, "coalesce(occurred_at, opened_at)")


class PreventionIncident(SQLModel, table=True):
    """An incident's severity, for the actions that come from it."""

    __tablename__ = "prevention_actions_incidents"
    __table_args__ = _schema(
        "prevention_actions_incidents",
    )
    incident_id: str = _text(primary_key=True)
    severity: str | None = _text(nullable=True)


class PreventionActionRow(SQLModel, table=True):
    """A prevention action of an incident, its owner, due date and completion."""

    __tablename__ = "prevention_actions_actions"
    __table_args__ = _schema(
        "prevention_actions_actions",
        Index("_open_by_owner", "owner", "due_on", postgresql_where=text("NOT completed")),
        Index("_by_site", "site_id"),
    )
    incident_id: str = _text(primary_key=True)
    action_id: str = _text(primary_key=True)
    site_id: str | None = _text(nullable=True)
    agency_id: str | None = _text(nullable=True)
    kind: str = _text()
    description: str = _text()
    owner: str = _text()
    due_on: date = Field(sa_type=Date)
    completed: bool
    completed_by: str | None = _text(nullable=True)
    incident_severity: str | None = _text(nullable=True)


class PlaybookCatalogueRow(SQLModel, table=True):
    """A playbook on a site: its lineage, provenance, local changes and promotion state."""

    __tablename__ = "playbook_catalogue_playbooks"
    __table_args__ = _schema(
        "playbook_catalogue_playbooks",
        Index("_by_site", "site_id", "lineage"),
        Index("_by_agency", "agency_id", "lineage"),
    )
    playbook_id: str = _text(primary_key=True)
    site_id: str | None = _text(nullable=True)
    agency_id: str | None = _text(nullable=True)
    name: str = _text()
    owner: str = _text()
    lineage: str = _text()
    version: int
    source_version: int
    content_hash: str = _text()
    source_content_hash: str = _text()
    imported: bool
    source_site: str | None = _text(nullable=True)
    exported_at: datetime | None = Field(sa_type=MOMENT, nullable=True)
    environment: str = _text()
    read_only: bool
    local_changes_open: list[str] = Field(sa_type=TEXTS)
    local_changes_done: list[str] = Field(sa_type=TEXTS)
    first_run_id: str | None = _text(nullable=True)
    first_run_succeeded: bool | None = Field(default=None, nullable=True)
    first_run_environment: str | None = _text(nullable=True)
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
    site_id: str = _text(primary_key=True)
    agency_id: str | None = _text(nullable=True)
    version: int
    site_version: int
    enforced: bool
    state: dict[str, Any] = Field(sa_type=postgresql.JSONB)
    site_state: dict[str, Any] = Field(sa_type=postgresql.JSONB)


class SiteActivityRow(SQLModel, table=True):
    """A site's last event, its event count and its open runs and incidents."""

    __tablename__ = "site_activity_sites"
    __table_args__ = _schema("site_activity_sites", Index("_by_agency", "agency_id"))
    site_id: str = _text(primary_key=True)
    agency_id: str | None = _text(nullable=True)
    last_position: int = Field(sa_type=BigInteger)
    last_event_type: str = _text()
    last_event_at: datetime = Field(sa_type=MOMENT)
    event_count: int = Field(sa_type=BigInteger)
    runs_pending: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    incidents_open: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class SiteActivityDay(SQLModel, table=True):
    """How many events of one type a site had on one day."""

    __tablename__ = "site_activity_daily"
    __table_args__ = _schema(
        "site_activity_daily",
    )
    site_id: str = _text(primary_key=True)
    day: date = Field(sa_type=Date, primary_key=True)
    type: str = _text(primary_key=True)
    count: int = Field(sa_type=BigInteger)


class StreamHead(SQLModel, table=True):
    """A stream's current version and last event."""

    __tablename__ = "stream_heads_heads"
    __table_args__ = _schema("stream_heads_heads", Index("_by_site", "site_id", "stream_type"))
    stream_id: str = _text(primary_key=True)
    stream_type: str = _text()
    site_id: str | None = _text(nullable=True)
    agency_id: str | None = _text(nullable=True)
    version: int
    last_event_type: str = _text()
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
    "approval_queue": {"runs": ApprovalQueueRun},
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
