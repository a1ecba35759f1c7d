"""The playbook catalogue read model, fed playbook events appended straight to the store against
real Postgres: a deployment's row after each step from registration through export and import to
promotion, what a revision and a re-import reset, events of other streams ignored, and rebuilds
equal to live."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from events.catalogue import CATALOGUE, Event
from events.domain.playbook_events import (
    PlaybookAssumptions,
    PlaybookContent,
    PlaybookFirstRunRecorded,
)
from events.domain.playbook_format import PlaybookExport, build_export, content_hash, signed
from events.domain.playbook_rollout import (
    ImportPlaybook,
    RecordFirstRun,
    decide_approve_promotion,
    decide_complete_local_change,
    decide_import,
    decide_promote,
    decide_record_first_run,
)
from events.domain.playbooks import (
    PLAYBOOKS,
    Playbook,
    RegisterPlaybook,
    decide_export,
    decide_register,
    decide_revise,
)
from events.store import EventStore
from projections import generations
from projections.playbook_catalogue import PlaybookCatalogue
from projections.rebuild import rebuild
from tests.projections.history import write_history
from tests.projections.test_incident_read_models import caught_up, rows

CATALOGUE_MODEL = PlaybookCatalogue()
AGENCY = "northwind-agency"
SOURCE, CLIENT = "agency-demo-shop", "client-shop"
KID = "agency-demo-shop.0001"
EXPORTED_AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
TARGET_FACTS = PlaybookAssumptions(provider="anthropic", roles=("shop_manager", "editor"))
"""Against the content's assumptions: the provider to adapt, the roles met, the product language
to confirm."""


def content(
    name: str = "Refund request triage", prompt: str = "Summarise {{order}}"
) -> PlaybookContent:
    return PlaybookContent.model_validate(
        {
            "name": name,
            "steps": [{"step_id": "read", "title": "Read", "prompt_template": prompt}],
            "assumptions": {
                "provider": "openai",
                "roles": ["shop_manager"],
                "product_language": "en-GB",
            },
        }
    )


class PlaybookLog:
    """Appends playbook events to the store as the playbook commands do, decided by the domain's
    deciders over the stream so far: one stream per playbook, its tenant fixed by the first
    append."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.streams: dict[str, list[Event]] = {}
        self.tenants: dict[str, tuple[str, str | None]] = {}
        self.position = 0

    def state(self, playbook_id: str) -> Playbook:
        return PLAYBOOKS.fold(self.streams.get(playbook_id, []))

    async def append(self, playbook_id: str, events: list[Event]) -> int:
        site, agency = self.tenants[playbook_id]
        result = await self.store.append(
            f"playbook-{playbook_id}",
            None,
            [CATALOGUE.to_new_event(event, {"actor": "test"}) for event in events],
            stream_type="playbook",
            site_id=site,
            agency_id=agency,
        )
        self.streams.setdefault(playbook_id, []).extend(events)
        self.position = result.positions[-1]
        return self.position

    async def register(
        self, playbook_id: str, site: str = SOURCE, agency: str | None = AGENCY, **kw: Any
    ) -> int:
        self.tenants[playbook_id] = (site, agency)
        cmd = RegisterPlaybook(
            playbook_id=playbook_id,
            site_id=site,
            owner=kw.get("owner", "dana"),
            content=kw.get("body", content()),
            actor="dana",
        )
        return await self.append(playbook_id, decide_register(self.state(playbook_id), cmd))

    async def revise(self, playbook_id: str, body: PlaybookContent) -> int:
        return await self.append(playbook_id, decide_revise(self.state(playbook_id), body, "dana"))

    async def export(
        self, playbook_id: str, export_id: str, at: datetime = EXPORTED_AT
    ) -> PlaybookExport:
        state = self.state(playbook_id)
        await self.append(playbook_id, decide_export(state, export_id, "dana", at, KID))
        return signed(build_export(state, at, export_id), kid=KID, value="c2ln")

    async def import_(
        self,
        playbook_id: str,
        document: PlaybookExport,
        site: str = CLIENT,
        agency: str | None = AGENCY,
        owner: str = "omar",
    ) -> int:
        self.tenants.setdefault(playbook_id, (site, agency))
        cmd = ImportPlaybook(
            playbook_id=playbook_id,
            site_id=site,
            owner=owner,
            document=document,
            target_facts=TARGET_FACTS,
            actor="omar",
        )
        return await self.append(playbook_id, decide_import(self.state(playbook_id), cmd))

    async def complete(self, playbook_id: str, change_id: str) -> int:
        done = decide_complete_local_change(self.state(playbook_id), change_id, "omar", "done")
        return await self.append(playbook_id, done)

    async def first_run(self, playbook_id: str, run_id: str, succeeded: bool = True) -> int:
        cmd = RecordFirstRun(
            run_id=run_id,
            succeeded=succeeded,
            environment="staging",
            read_only=True,
            summary="3 refunds triaged",
            actor="omar",
        )
        return await self.append(playbook_id, decide_record_first_run(self.state(playbook_id), cmd))

    async def approve(self, playbook_id: str, by: str = "priya") -> int:
        return await self.append(playbook_id, decide_approve_promotion(self.state(playbook_id), by))

    async def promote(self, playbook_id: str, by: str = "priya") -> int:
        return await self.append(playbook_id, decide_promote(self.state(playbook_id), by))


async def playbook_row(pool: asyncpg.Pool, playbook_id: str) -> dict[str, Any]:
    tables = await caught_up(pool, CATALOGUE_MODEL)
    row = await pool.fetchrow(
        f"SELECT * FROM {tables['playbooks']} WHERE playbook_id = $1", playbook_id
    )
    assert row is not None
    return dict(row)


async def test_a_deployment_row_follows_export_import_and_rollout(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    log = PlaybookLog(store)
    await log.register("refunds")
    lineage = content_hash(content())
    source = await playbook_row(pool, "refunds")
    assert (source["site_id"], source["agency_id"], source["name"], source["owner"]) == (
        SOURCE,
        AGENCY,
        "Refund request triage",
        "dana",
    )
    assert (source["lineage"], source["content_hash"]) == (lineage, lineage)
    assert (source["imported"], source["source_site"], source["exported_at"]) == (False, None, None)
    assert (source["environment"], source["read_only"], source["version"]) == ("staging", True, 1)

    document = await log.export("refunds", "exp-1")
    assert (await playbook_row(pool, "refunds"))["exported_at"] == EXPORTED_AT
    await log.import_("refunds-client", document)
    client = await playbook_row(pool, "refunds-client")
    assert (client["imported"], client["source_site"], client["exported_at"]) == (
        True,
        SOURCE,
        EXPORTED_AT,
    )
    assert (client["lineage"], client["owner"], client["version"]) == (lineage, "omar", 1)
    assert client["local_changes_open"] == ["provider", "product_language"]

    await log.complete("refunds-client", "provider")
    client = await playbook_row(pool, "refunds-client")
    assert (client["local_changes_open"], client["local_changes_done"]) == (
        ["product_language"],
        ["provider"],
    )
    await log.complete("refunds-client", "product_language")
    await log.first_run("refunds-client", "run-1", succeeded=False)
    assert (await playbook_row(pool, "refunds-client"))["first_run_succeeded"] is False
    await log.first_run("refunds-client", "run-2")
    await log.approve("refunds-client")
    last = await log.promote("refunds-client")
    client = await playbook_row(pool, "refunds-client")
    recorded = await pool.fetchval("SELECT recorded_at FROM events WHERE position = $1", last)
    assert client["updated_at"] == recorded
    assert {k: v for k, v in client.items() if k != "updated_at"} == {
        "playbook_id": "refunds-client",
        "site_id": CLIENT,
        "agency_id": AGENCY,
        "name": "Refund request triage",
        "owner": "omar",
        "lineage": lineage,
        "version": 1,
        "source_version": 1,
        "content_hash": lineage,
        "source_content_hash": lineage,
        "imported": True,
        "source_site": SOURCE,
        "exported_at": EXPORTED_AT,
        "environment": "production",
        "read_only": False,
        "local_changes_open": [],
        "local_changes_done": ["provider", "product_language"],
        "first_run_id": "run-2",
        "first_run_succeeded": True,
        "first_run_environment": "staging",
        "first_run_read_only": True,
        "promotion_approvals": 1,
        "last_position": last,
    }


async def test_a_revision_resets_the_first_run_and_approvals_not_the_local_changes(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    log = PlaybookLog(store)
    await log.register("refunds")
    await log.import_("refunds-client", await log.export("refunds", "exp-1"))
    await log.complete("refunds-client", "provider")
    await log.complete("refunds-client", "product_language")
    await log.first_run("refunds-client", "run-1")
    await log.approve("refunds-client")
    old_hash = log.state("refunds-client").content_hash
    await log.revise("refunds-client", content(prompt="Summarise {{order}} for the client"))
    # A run of the previous version recorded late counts for nothing.
    late = PlaybookFirstRunRecorded(
        playbook_id="refunds-client",
        run_id="run-late",
        content_hash=old_hash,
        succeeded=True,
        environment="staging",
        read_only=True,
        summary="late",
        recorded_by="omar",
    )
    await log.append("refunds-client", [late])
    client = await playbook_row(pool, "refunds-client")
    assert client["content_hash"] == log.state("refunds-client").content_hash != old_hash
    assert (client["version"], client["source_version"], client["lineage"]) == (2, 1, old_hash)
    assert (client["first_run_id"], client["first_run_succeeded"]) == (None, None)
    assert (client["promotion_approvals"], client["environment"], client["read_only"]) == (
        0,
        "staging",
        True,
    )
    assert (client["local_changes_open"], client["local_changes_done"]) == (
        [],
        ["provider", "product_language"],
    )
    assert (client["imported"], client["source_site"], client["source_content_hash"]) == (
        True,
        SOURCE,
        old_hash,
    ), "a local revision keeps what the source sent"

    await log.revise("refunds", content(name="Refund triage v2"))
    source = await playbook_row(pool, "refunds")
    assert (source["name"], source["version"], source["source_version"]) == (
        "Refund triage v2",
        2,
        2,
    )
    assert source["lineage"] == old_hash, "a native lineage stays its first version's hash"
    assert source["source_content_hash"] == source["content_hash"] != old_hash


async def test_a_reimport_brings_its_own_local_changes_and_restarts_the_rollout(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    log = PlaybookLog(store)
    await log.register("refunds")
    await log.import_("refunds-client", await log.export("refunds", "exp-1"))
    for change in ("provider", "product_language"):
        await log.complete("refunds-client", change)
    await log.first_run("refunds-client", "run-1")
    await log.approve("refunds-client")
    await log.promote("refunds-client")
    await log.revise("refunds", content(name="Refund triage v2"))
    await log.import_("refunds-client", await log.export("refunds", "exp-2", LATER))
    client = await playbook_row(pool, "refunds-client")
    assert (client["version"], client["source_version"], client["exported_at"]) == (2, 2, LATER)
    assert (client["name"], client["content_hash"]) == (
        "Refund triage v2",
        content_hash(content(name="Refund triage v2")),
    )
    assert (client["local_changes_open"], client["local_changes_done"]) == (
        ["provider", "product_language"],
        [],
    )
    assert (client["environment"], client["read_only"], client["first_run_id"]) == (
        "staging",
        True,
        None,
    )
    assert client["promotion_approvals"] == 0
    assert (await playbook_row(pool, "refunds"))["exported_at"] == LATER


async def test_playbook_event_types_in_other_streams_are_ignored(
    pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    # The generated history uses every catalogue type, playbook ones included, in `gen` streams
    # with payloads that are not playbooks.
    await write_history(owner, 2_000)
    tables = await caught_up(pool, CATALOGUE_MODEL, batch_size=300)
    assert (await rows(pool, tables, CATALOGUE_MODEL)) == {"playbooks": []}
    live = await generations.live(pool, CATALOGUE_MODEL.name)
    assert live is not None
    assert live.events_applied == 2_000


async def test_rebuilds_equal_live(
    store: EventStore, pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    log = PlaybookLog(store)
    await write_history(owner, 500)
    await log.register("refunds")
    await log.register("stock", site=CLIENT, body=content(name="Stock alerts"))
    await log.export("stock", "stock-exp-1")
    first = await log.export("refunds", "exp-1")
    for n, site in enumerate(("client-shop", "beta-shop", "gamma-shop")):
        await log.import_(f"refunds-{n}", first, site=site)
        await log.complete(f"refunds-{n}", "provider")
        await log.complete(f"refunds-{n}", "product_language")
        await log.first_run(f"refunds-{n}", f"run-{n}", succeeded=n != 1)
    await log.approve("refunds-0")
    await log.promote("refunds-0")
    await log.revise("refunds", content(name="Refund triage v2"))
    await log.import_("refunds-2", await log.export("refunds", "exp-2", LATER), site="gamma-shop")
    tables = await caught_up(pool, CATALOGUE_MODEL, batch_size=3)
    before = await rows(pool, tables, CATALOGUE_MODEL)
    assert len(before["playbooks"]) == 5
    rebuilt = await rebuild(pool, CATALOGUE_MODEL)
    assert await rows(pool, rebuilt.tables, CATALOGUE_MODEL) == before
