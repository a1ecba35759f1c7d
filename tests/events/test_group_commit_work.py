"""Group commit with transaction work: multi-stream appends, idempotency records and `within`
hooks share the batch's transaction, and each caller still gets exactly its own outcome."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from events.appends import (
    AppendResult,
    IdempotencyClaim,
    IdempotencyRace,
    PreparedAppend,
    StreamAppend,
)
from events.batch_statements import PendingCommand
from events.batch_write import defer_to_batch
from events.envelope import GENESIS_HASH, utc_now
from events.group_commit import GroupCommitter
from events.store import EventStore
from tests.events.blocking import RAW_INSERT, RAW_KEY, held, until, until_waiting_on_a_lock
from tests.support import new_events

Hook = Callable[[asyncpg.Connection, list[AppendResult]], Awaitable[None]]


def _pair(name: str) -> list[StreamAppend]:
    return [
        StreamAppend(f"{name}-a", "gc", 0, new_events(2, n=name)),
        StreamAppend(f"{name}-b", "gc", 0, new_events(1, n=name)),
    ]


def _claim(key: str) -> IdempotencyClaim:
    return IdempotencyClaim("tester", key, b"hash-" + key.encode(), 201, lambda r: {"key": key})


async def _versions(pool: asyncpg.Pool, *streams: str) -> list[int]:
    rows = await pool.fetch(
        "SELECT s, coalesce(max(stream_version), 0) AS v FROM unnest($1::text[]) s "
        "LEFT JOIN events ON stream_id = s GROUP BY s ORDER BY s",
        list(streams),
    )
    return [row["v"] for row in rows]


async def _outcome(call: Awaitable[list[AppendResult]]) -> list[AppendResult] | Exception:
    try:
        return await call
    except Exception as error:
        return error


async def test_commands_with_work_share_one_transaction_and_shared_work_runs_once(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    shared_calls: list[list[str]] = []
    own: list[str] = []

    async def shared(conn: asyncpg.Connection, results: list[AppendResult]) -> None:
        shared_calls.append([r.stream_id for r in results])

    def within(name: str) -> Hook:
        async def hook(conn: asyncpg.Connection, results: list[AppendResult]) -> None:
            own.append(name)
            assert await conn.fetchval(
                "SELECT count(*) FROM events WHERE stream_id = $1", f"{name}-a"
            )
            if not defer_to_batch(shared, results):
                await shared(conn, results)

        return hook

    before = store.transactions_committed
    async with held(pool, RAW_INSERT, "gate-1", 1, commit=False):
        gate = asyncio.create_task(store.append("gate-1", 0, new_events(1), stream_type="g"))
        await until_waiting_on_a_lock(pool)
        calls = [
            asyncio.create_task(
                store.append_streams(
                    _pair(f"c{n}"), idempotency=_claim(f"k{n}"), within=within(f"c{n}")
                )
            )
            for n in range(8)
        ]
        await until(lambda: store.commands_waiting == 8, "all queued")
    await gate
    outcomes = await asyncio.gather(*calls)
    assert store.transactions_committed - before == 2
    assert len({r.transaction_id for results in outcomes for r in results}) == 1
    assert own == [f"c{n}" for n in range(8)]
    # Once, after every command's own work, with every command's results in batch order.
    assert shared_calls == [[f"c{n}-{s}" for n in range(8) for s in "ab"]]
    for n, results in enumerate(outcomes):
        assert [(r.stream_id, r.stream_version) for r in results] == [
            (f"c{n}-a", 2),
            (f"c{n}-b", 1),
        ]
        stored = await store.stored_response("tester", f"k{n}", f"hash-k{n}".encode())
        assert stored is not None
        assert stored.body == {"key": f"k{n}"}


async def test_a_failing_hook_fails_only_its_command(store: EventStore, pool: asyncpg.Pool) -> None:
    shared_calls: list[int] = []

    async def shared(conn: asyncpg.Connection, results: list[AppendResult]) -> None:
        shared_calls.append(len(results))

    def within(fail: bool) -> Hook:
        async def hook(conn: asyncpg.Connection, results: list[AppendResult]) -> None:
            if fail:
                raise LookupError("refused by its own work")
            if not defer_to_batch(shared, results):
                await shared(conn, results)

        return hook

    before = store.transactions_committed
    async with held(pool, RAW_INSERT, "gate-1", 1, commit=False):
        gate = asyncio.create_task(store.append("gate-1", 0, new_events(1), stream_type="g"))
        await until_waiting_on_a_lock(pool)
        calls = [
            asyncio.create_task(
                _outcome(
                    store.append_streams(
                        _pair(f"c{n}"), idempotency=_claim(f"k{n}"), within=within(n == 3)
                    )
                )
            )
            for n in range(6)
        ]
        await until(lambda: store.commands_waiting == 6, "all queued")
    await gate
    outcomes = await asyncio.gather(*calls)
    assert isinstance(outcomes[3], LookupError)
    assert await _versions(pool, "c3-a", "c3-b") == [0, 0]
    assert await store.stored_response("tester", "k3", b"hash-k3") is None
    for n in (0, 1, 2, 4, 5):
        assert await _versions(pool, f"c{n}-a", f"c{n}-b") == [2, 1]
        assert not isinstance(outcomes[n], Exception)
    # The first try failed whole; the second, a savepoint per command, is one transaction.
    assert store.transactions_committed - before == 2
    # Each command then does its shared work on its own.
    assert shared_calls == [2] * 5


@pytest.mark.parametrize("commit", [True, False], ids=["other-commits", "other-rolls-back"])
async def test_a_key_another_transaction_stores_first_fails_only_its_command(
    store: EventStore, pool: asyncpg.Pool, commit: bool
) -> None:
    answer = json.dumps({"stored": "elsewhere"})
    async with held(pool, RAW_KEY, "tester", "k2", b"hash-k2", answer, commit=commit):
        calls = [
            asyncio.create_task(
                _outcome(store.append_streams(_pair(f"c{n}"), idempotency=_claim(f"k{n}")))
            )
            for n in range(5)
        ]
        await until_waiting_on_a_lock(pool)
    outcomes = await asyncio.gather(*calls)
    for n in (0, 1, 3, 4):
        assert await _versions(pool, f"c{n}-a", f"c{n}-b") == [2, 1]
    stored = await store.stored_response("tester", "k2", b"hash-k2")
    assert stored is not None
    if commit:
        assert isinstance(outcomes[2], IdempotencyRace)
        assert await _versions(pool, "c2-a", "c2-b") == [0, 0]
        assert stored.body == {"stored": "elsewhere"}
    else:
        assert await _versions(pool, "c2-a", "c2-b") == [2, 1]
        assert stored.body == {"key": "k2"}


@pytest.mark.parametrize("commit", [True, False], ids=["blocker-commits", "blocker-rolls-back"])
async def test_a_cancelled_caller_never_leaves_half_a_multi_stream_append(
    store: EventStore, pool: asyncpg.Pool, commit: bool
) -> None:
    """Its batch waits on a row of its first stream; the caller gives up. The batch then fails
    (the statement goes again without it) or lands, but never one stream without the other."""
    async with held(pool, RAW_INSERT, "m0-a", 1, commit=commit):
        calls = [asyncio.create_task(store.append_streams(_pair(f"m{n}"))) for n in range(4)]
        await until_waiting_on_a_lock(pool)
        calls[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await calls[0]
    for call in calls[1:]:
        await call
    assert await _versions(pool, "m0-a", "m0-b") == ([1, 0] if commit else [2, 1])
    for n in range(1, 4):
        assert await _versions(pool, f"m{n}-a", f"m{n}-b") == [2, 1]


async def test_a_crash_inside_a_batch_leaves_no_part_of_a_multi_stream_append(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """The batch's connection dies while a command's work runs, between its streams' rows and
    its commit: every caller of the batch hears it, and nothing of the batch is stored."""
    inside, resume, pid = asyncio.Event(), asyncio.Event(), []

    async def hook(conn: asyncpg.Connection, results: list[AppendResult]) -> None:
        pid.append(conn.get_server_pid())
        inside.set()
        await resume.wait()
        await conn.execute("SELECT 1")

    calls = [
        asyncio.create_task(_outcome(store.append_streams(_pair(f"x{n}"), within=hook)))
        for n in range(3)
    ]
    await inside.wait()
    await pool.execute("SELECT pg_terminate_backend($1)", pid[0])
    resume.set()
    outcomes = await asyncio.wait_for(asyncio.gather(*calls), timeout=60)
    assert all(isinstance(o, asyncpg.PostgresError | asyncpg.InterfaceError) for o in outcomes)
    for n in range(3):
        assert await _versions(pool, f"x{n}-a", f"x{n}-b") == [0, 0]
    # The store goes on with a new connection.
    assert [r.stream_version for r in await store.append_streams(_pair("after"))] == [2, 1]


async def test_a_command_that_shares_a_stream_with_a_waiting_one_waits_too(
    pool: asyncpg.Pool,
) -> None:
    """Arrival order per stream: a command sharing a stream with one left for a later batch
    goes after it, never before, even when it shares nothing with the batch taken."""
    committer = GroupCommitter(pool)

    def command(*streams: str) -> PendingCommand:
        at = utc_now()
        return PendingCommand(
            [
                PreparedAppend.build(StreamAppend(s, "gc", 0, new_events(1)), 0, GENESIS_HASH, at)
                for s in streams
            ]
        )

    first, second, third, fourth = command("a"), command("a", "b"), command("b"), command("c")
    committer.queue.extend([first, second, third, fourth])
    assert committer._take() == [first, fourth]
    assert committer._take() == [second]
    assert committer._take() == [third]
