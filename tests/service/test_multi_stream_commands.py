"""A command over several streams, at the Ledger, against real Postgres: all of its appends land
or none (even when its task is cancelled half-way), and a stream it only read is pinned."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from events.catalogue import CATALOGUE
from events.domain.kill_switches import EVERY_CATEGORY, KILL_SWITCHES, decide_engage
from events.domain.sites import (
    SITES,
    RecordSiteChange,
    SiteFacts,
    SiteKeyRegistered,
    SiteRegistered,
    decide_record_change,
)
from events.store import AppendResult, EventStore
from service.attempts import Attempt
from service.auth.principal import Principal, Role
from service.command import Command, CommandContext
from service.ledger import Ledger

SITE = "acme-shop"
ADMIN = Principal(
    sub="root",
    roles=frozenset({Role.ADMINISTRATOR}),
    sites=frozenset({SITE}),
    agency=None,
    key_id="test",
)
CTX = CommandContext(ADMIN, "record-site-change", "req-1", None, None, b"", None)
CHANGE = RecordSiteChange(kind="provider", summary="new AI provider")


async def register_site(store: EventStore) -> None:
    event = SiteRegistered(site_id=SITE, agency_id=None, facts=SiteFacts(setup_owner="dana"))
    new = CATALOGUE.to_new_event(event, {"actor": "root"})
    await store.append(SITES.stream_id(SITE), 0, [new], stream_type="site", site_id=SITE)


async def change_and_engage(attempt: Attempt) -> None:
    site = await attempt.load(SITES, SITES.stream_id(SITE), "site")
    attempt.append(site, decide_record_change(site.state, CHANGE))
    switches = await attempt.load(
        KILL_SWITCHES, KILL_SWITCHES.stream_id(SITE), "site", new_tenant=site.tenant
    )
    attempt.append(switches, decide_engage(switches.state, SITE, EVERY_CATEGORY, "root", "why"))


async def test_a_command_cancelled_between_its_streams_leaves_neither(store: EventStore) -> None:
    await register_site(store)
    inside, crash = asyncio.Event(), asyncio.Event()

    async def hang(conn: asyncpg.Connection, results: list[AppendResult]) -> None:
        # Both streams' rows are inserted in this transaction by now; the crash comes here
        # (the transaction may belong to a batch's writer, so it fails rather than waits).
        assert [len(r.event_ids) for r in results] == [1, 1]
        inside.set()
        await crash.wait()
        raise RuntimeError("crashed between the two streams' commit")

    command = Command(SITES.stream_id(SITE), change_and_engage, within=hang)
    task = asyncio.create_task(Ledger(store).execute(CTX, command))
    await inside.wait()
    task.cancel()
    crash.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    site_types = [e.type for e in await store.read_stream(SITES.stream_id(SITE))]
    assert site_types == ["SiteRegistered"]
    assert await store.read_stream(KILL_SWITCHES.stream_id(SITE)) == []
    done = await Ledger(store).execute(CTX, Command(SITES.stream_id(SITE), change_and_engage))
    assert len(done.body["event_ids"]) == 2, "the same command, not cancelled, lands both"


async def test_a_stream_only_read_is_pinned_at_the_version_read(store: EventStore) -> None:
    """A change to the site between the load and the append is a conflict: the command is
    decided again on the fresh state, never appended on the stale one."""
    await register_site(store)
    attempts: list[int] = []

    async def engage_after_a_site_change(attempt: Attempt) -> None:
        site = await attempt.load(SITES, SITES.stream_id(SITE), "site")
        attempts.append(site.version)
        if len(attempts) == 1:  # someone else changes the site meanwhile
            key = SiteKeyRegistered(site_id=SITE, kid="k1", fingerprint="f")
            new = CATALOGUE.to_new_event(key, {"actor": "other"})
            await store.append(SITES.stream_id(SITE), 1, [new], stream_type="site", site_id=SITE)
        switches = await attempt.load(
            KILL_SWITCHES, KILL_SWITCHES.stream_id(SITE), "site", new_tenant=site.tenant
        )
        engage = decide_engage(switches.state, SITE, EVERY_CATEGORY, "root", "why")
        attempt.append(switches, engage)

    command = Command(KILL_SWITCHES.stream_id(SITE), engage_after_a_site_change)
    reply = await Ledger(store).execute(CTX, command)
    assert attempts == [1, 2]
    assert reply.status_code == 200
    assert len(await store.read_stream(KILL_SWITCHES.stream_id(SITE))) == 1
