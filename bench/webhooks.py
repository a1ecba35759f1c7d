"""Webhook delivery: `webhook_deliveries_per_s`, `webhook_commit_to_delivery_p99_ms`,
`webhook_order_inversions`.

A receiver in a process of its own (a bare asyncio HTTP/1.1 server answering 200, so it is not
the limit) writes each arrival's webhook-id, stream and version with its monotonic time, which is
the same clock across processes on Linux. Throughput: a backlog of events across many streams,
fanned out and then sent by one sender at full speed. Latency: writers append for `seconds`
while the dispatcher runs as in `serve`; an event's latency runs from its append's
acknowledgement to its arrival. Order: per stream, the first arrivals' versions must increase.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import sys
import time
from dataclasses import dataclass, field

import asyncpg
import httpx
from rich.console import Console

from bench.server import bench_database, server
from events.catalogue import CATALOGUE
from events.domain.webhooks import WebhookSubscriptionCreated
from events.envelope import NewEvent, utc_now
from events.store import EventStore
from service.secret_box import SecretBox, decode_key, new_kek
from service.webhooks import signing
from service.webhooks.fanout import FanOut
from service.webhooks.secrets import SecretReader, store_secret
from service.webhooks.sender import Sender, SenderSettings

RECEIVER = r"""
import asyncio, json, sys, time
out = sys.stdout
async def handle(reader, writer):
    import socket
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length, hook = 0, ""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"webhook-id":
                    hook = value.strip().decode()
            body = json.loads(await reader.readexactly(length))
            out.write(f"{time.monotonic()} {hook} {body['stream_id']} {body['stream_version']}\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""
AGENCY = "bench-agency"


@dataclass
class Arrivals:
    process: asyncio.subprocess.Process
    port: int
    seen: list[tuple[float, str, str, int]] = field(default_factory=list)

    async def collect(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            at, hook, stream, version = line.decode().split()
            self.seen.append((float(at), hook, stream, int(version)))

    def inversions(self) -> int:
        first: dict[str, list[int]] = {}
        done: set[str] = set()
        for _, hook, stream, version in self.seen:
            if hook not in done:
                done.add(hook)
                first.setdefault(stream, []).append(version)
        return sum(
            1 for versions in first.values() for a, b in itertools.pairwise(versions) if b < a
        )


async def _receiver() -> tuple[Arrivals, asyncio.Task[None]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RECEIVER, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    port = int((await process.stdout.readline()).decode())
    arrivals = Arrivals(process, port)
    return arrivals, asyncio.create_task(arrivals.collect())


async def _bare_httpx(arrivals: Arrivals, count: int, concurrency: int) -> float:
    """POSTs of the same size to the same receiver from a bare httpx loop, nothing else: what
    this machine gives a general client at that moment (it is shared), beside the sender."""
    body = b'{"stream_id":"bare","stream_version":0,"data":"' + b"x" * 400 + b'"}'
    seen = len(arrivals.seen)
    gate = asyncio.Semaphore(concurrency)
    # As the sender used it before its own client: TCP_NODELAY, or each POST waits out the
    # receiver's delayed ACK.
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=concurrency),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    async with httpx.AsyncClient(transport=transport, trust_env=False) as http:

        async def one(n: int) -> None:
            async with gate:
                await http.post(
                    f"http://127.0.0.1:{arrivals.port}/bare",
                    content=body,
                    headers={"webhook-id": f"bare-{n}"},
                )

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        elapsed = time.perf_counter() - started
    while len(arrivals.seen) < seen + count:  # noqa: ASYNC110 (the receiver is another process)
        await asyncio.sleep(0.01)
    return count / elapsed


async def _subscribe(pool: asyncpg.Pool, url: str, box: SecretBox) -> None:
    secret = signing.new_secret()
    event = WebhookSubscriptionCreated(
        subscription_id="bench",
        url=url,
        event_types=["*"],
        site_id=None,
        agency_id=AGENCY,
        description="bench",
        secret_fingerprint=signing.fingerprint(secret),
        created_by="bench",
    )

    async def keep(conn: asyncpg.Connection, _: object) -> None:
        await store_secret(conn, box, "bench", secret, utc_now())

    await EventStore(pool).append(
        "webhook-bench",
        0,
        [CATALOGUE.to_new_event(event, {"actor": "bench"})],
        stream_type="webhook",
        agency_id=AGENCY,
        within=keep,
    )


async def _append(store: EventStore, stream: int, version: int) -> None:
    await store.append(
        f"bench-{stream}",
        version,
        [NewEvent(type="BenchHappened", data={"n": version})],
        stream_type="bench",
        agency_id=AGENCY,
    )


async def measure_webhooks(app_url: str, backlog: int, seconds: float) -> dict[str, float]:
    pool = await asyncpg.create_pool(app_url, min_size=4, max_size=48)
    arrivals, collecting = await _receiver()
    box = SecretBox.of(decode_key(new_kek()) or b"")
    await _subscribe(pool, f"http://127.0.0.1:{arrivals.port}/hooks", box)
    store = EventStore(pool)
    streams = 200
    versions = [0] * streams

    async def fill(first: int) -> None:
        # Several writers over disjoint streams: only the setup is faster, the order is the same.
        for n in range(first, backlog, 8):
            await _append(store, n % streams, versions[n % streams])
            versions[n % streams] += 1

    await asyncio.gather(*(fill(w) for w in range(8)))
    fanout = FanOut(pool, batch_size=2000)
    config = SenderSettings(allow_private=True, batch_size=500, concurrency=128)
    sender = Sender(pool, SecretReader(pool, box), config)
    started = time.perf_counter()
    await fanout.catch_up()
    fanned = time.perf_counter()
    while await sender.step():
        pass
    sent = time.perf_counter()
    while len(arrivals.seen) < backlog:  # noqa: ASYNC110 (the receiver is another process)
        await asyncio.sleep(0.01)
    throughput = backlog / (sent - fanned)
    bare = await _bare_httpx(arrivals, backlog // 4, config.concurrency)

    # Latency: writers append while the dispatcher runs as `serve` runs it.
    running = [asyncio.create_task(fanout.run()), asyncio.create_task(sender.run())]
    acked: dict[str, float] = {}
    end = time.perf_counter() + seconds
    lock = [asyncio.Lock() for _ in range(streams)]

    async def writer(w: int) -> None:
        n = w
        while time.perf_counter() < end:
            s = n % streams
            async with lock[s]:
                event = NewEvent(type="BenchHappened", data={"n": versions[s]})
                await store.append(
                    f"bench-{s}", versions[s], [event], stream_type="bench", agency_id=AGENCY
                )
                versions[s] += 1
            acked[str(event.event_id)] = time.monotonic()
            n += 8

    await asyncio.gather(*(writer(w) for w in range(8)))
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        arrived = {hook for _, hook, _, _ in arrivals.seen}
        if set(acked) <= arrived:
            break
        await asyncio.sleep(0.05)
    fanout.stop()
    sender.stop()
    await asyncio.gather(*running)
    await sender.close()
    first: dict[str, float] = {}
    for at, hook, _, _ in arrivals.seen:
        first.setdefault(hook, at)
    lags = sorted(first[h] - t for h, t in acked.items() if h in first)
    arrivals.process.terminate()
    await arrivals.process.wait()
    collecting.cancel()
    await pool.close()
    return {
        "webhook_deliveries_per_s": throughput,
        "webhook_fanout_events_per_s": backlog / (fanned - started),
        "webhook_bare_httpx_posts_per_s": bare,
        "webhook_commit_to_delivery_p99_ms": lags[int(len(lags) * 0.99) - 1] * 1000
        if lags
        else float("nan"),
        "webhook_commit_to_delivery_p50_ms": lags[len(lags) // 2] * 1000 if lags else float("nan"),
        "webhook_latency_events": float(len(lags)),
        "webhook_undelivered": float(len(set(acked) - set(first))),
        "webhook_order_inversions": float(arrivals.inversions()),
    }


async def run_webhooks(server_url: str, seconds: float, console: Console) -> dict[str, float]:
    """The `make bench` part: a fresh database, the figures printed and returned."""
    backlog = int(os.environ.get("LEDGER_BENCH_WEBHOOK_BACKLOG", "20000"))
    async with bench_database(server_url) as db:
        figures = await measure_webhooks(db.app_url, backlog, seconds)
    console.print(
        f"webhooks: {figures['webhook_deliveries_per_s']:,.0f} deliveries/s "
        f"(fan-out {figures['webhook_fanout_events_per_s']:,.0f} events/s; a bare httpx loop "
        f"to the same receiver {figures['webhook_bare_httpx_posts_per_s']:,.0f} posts/s, load "
        f"average {os.getloadavg()[0]:.1f}); commit to delivery "
        f"p50 {figures['webhook_commit_to_delivery_p50_ms']:,.0f} ms, "
        f"p99 {figures['webhook_commit_to_delivery_p99_ms']:,.0f} ms over "
        f"{figures['webhook_latency_events']:,.0f} events while appending; "
        f"{figures['webhook_order_inversions']:.0f} order inversions, "
        f"{figures['webhook_undelivered']:.0f} undelivered"
    )
    return figures


if __name__ == "__main__":
    with server() as url:
        seconds = float(os.environ.get("LEDGER_BENCH_SECONDS", "8"))
        asyncio.run(run_webhooks(url, seconds, Console()))
