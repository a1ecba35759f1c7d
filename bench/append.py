"""The store's append rate: N writers, each appending single-event commands to its own streams."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from bench.payload import EVENT_TYPE, SITE_ID, STREAM_TYPE, event_data, event_metadata
from events.envelope import NewEvent
from events.store import EventStore
from service.database import create_pool
from service.settings import Settings

STREAM_LENGTH = 20
"""A run collects a handful to a few dozen events before it closes and a new one starts."""


@dataclass
class Window:
    """Appends that complete inside [start, end) count; warm-up and stragglers do not."""

    start: float
    end: float
    latencies: list[float] = field(default_factory=list)

    def record(self, began: float, finished: float) -> None:
        if self.start <= finished < self.end:
            self.latencies.append(finished - began)


@dataclass(frozen=True)
class AppendRun:
    writers: int
    seconds: float
    latencies: list[float]
    client_cpu: float
    """CPU seconds this process spent in the window: near `seconds` means the client is the cap."""

    @property
    def events_per_s(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def _writer(store: EventStore, name: str, window: Window) -> None:
    streams, version = 0, STREAM_LENGTH
    head: bytes | None = None
    while time.perf_counter() < window.end:
        if version == STREAM_LENGTH:
            streams, version, head = streams + 1, 0, None
        stream_id = f"{name}-{streams}"
        # Built per command, as a decider would: part of what one append costs the service. The
        # head hash is what the command pipeline has from loading the stream.
        event = NewEvent(
            type=EVENT_TYPE,
            data=event_data(stream_id, version + 1),
            metadata=event_metadata(),
        )
        began = time.perf_counter()
        result = await store.append(
            stream_id, version, [event], stream_type=STREAM_TYPE, site_id=SITE_ID, head_hash=head
        )
        window.record(began, time.perf_counter())
        version, head = version + 1, result.head_hash


async def measure_appends(app_url: str, writers: int, seconds: float, warmup: float) -> AppendRun:
    # One connection per writer, like a service whose pool is sized for its concurrency; the
    # service's own pool settings (idle-in-transaction timeout, application_name) apply.
    settings = Settings(
        env="development", database_url=app_url, pool_min_size=writers, pool_max_size=writers
    )
    pool = await create_pool(app_url, settings)
    try:
        store = EventStore(pool)
        now = time.perf_counter()
        window = Window(start=now + warmup, end=now + warmup + seconds)
        tag = f"bench-{writers}w-{uuid.uuid4().hex[:8]}"
        cpu_at_start = asyncio.create_task(_cpu_after(warmup))
        await asyncio.gather(*(_writer(store, f"{tag}-{i}", window) for i in range(writers)))
        client_cpu = time.process_time() - await cpu_at_start
    finally:
        await pool.close()
    return AppendRun(writers, seconds, window.latencies, client_cpu)


async def _cpu_after(delay: float) -> float:
    await asyncio.sleep(delay)
    return time.process_time()
