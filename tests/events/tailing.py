"""A reader that tails the whole log as a subscriber does, for the commit-order tests: it keeps
reading until told the writers are done and a read after that comes back empty."""

from __future__ import annotations

import asyncio

from events.store import START, EventStore, GlobalPosition


class TailingReader:
    def __init__(self, store: EventStore, limit: int) -> None:
        self.store = store
        self.limit = limit
        self.done = asyncio.Event()
        self.seen: list[str] = []
        """`stream_id:stream_version` of each event, in the order read."""
        self.order: list[GlobalPosition] = []

    async def run(self) -> None:
        after = START
        while True:
            finished = self.done.is_set()
            batch = await self.store.read_all(after, limit=self.limit)
            for event in batch:
                self.seen.append(f"{event.stream_id}:{event.stream_version}")
                self.order.append(GlobalPosition(event.transaction_id, event.position))
            if batch:
                after = self.order[-1]
            elif finished:
                return
            else:
                await asyncio.sleep(0.005)
