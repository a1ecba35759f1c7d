"""Postgres stopped (as by a crash) and started again under load: commands answer 503 with
Retry-After meanwhile, never 500; the subscribers are reported down, then resume; afterwards the
read models equal the log and every acknowledged command is in it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import asyncpg
import httpx

from projections import generations
from service.app import create_app
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.faults.conftest import PrivateServer
from tests.support import bearer, site_body

CLIENTS = 6
DEADLINE = 180.0
"""A generous bound for the event-driven waits below; no test asserts on a time."""


class Load:
    """Clients registering new sites in a loop, and what each request was answered."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.http, self.headers = http, headers
        self.answers: list[tuple[float, int]] = []
        self.acknowledged: set[str] = set()
        self.unavailable_without_retry_after = 0
        self.stopping = asyncio.Event()
        self.answered = asyncio.Condition()

    def count(self, status: int) -> int:
        return sum(1 for _, s in self.answers if s == status)

    async def client(self, n: int) -> None:
        i = 0
        while not self.stopping.is_set():
            i += 1
            site = f"site-{n}-{i}"
            answer = await self.http.post("/v1/sites", json=site_body(site), headers=self.headers)
            self.answers.append((time.monotonic(), answer.status_code))
            if answer.status_code == 201:
                self.acknowledged.add(site)
            elif answer.status_code == 503:
                assert answer.headers["content-type"] == "application/problem+json"
                if "retry-after" not in answer.headers:
                    self.unavailable_without_retry_after += 1
                await asyncio.sleep(0.05)
            async with self.answered:
                self.answered.notify_all()

    async def until(self, condition: Callable[[], bool]) -> None:
        async with self.answered:
            await asyncio.wait_for(self.answered.wait_for(condition), DEADLINE)


async def _wait(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_commands_answer_503_while_postgres_is_down_and_everything_resumes(
    private_server: PrivateServer, settings: Settings, token: TokenFactory
) -> None:
    app = create_app(settings)
    platform = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
    async with app.router.lifespan_context(app):
        states = app.state.supervisor.states
        runners = [s for name, s in states.items() if name.startswith("projection:")]

        async def runners_down() -> bool:
            return all(s.status == "down" for s in runners)

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            load = Load(http, platform)
            clients = [asyncio.create_task(load.client(n)) for n in range(CLIENTS)]
            try:
                await load.until(lambda: load.count(201) >= 30)
                stopped_at = time.monotonic()
                await private_server.stop()
                await load.until(lambda: load.count(503) >= 20)
                await _wait(runners_down, "every runner to be reported down")
                ready = await http.get("/readyz")
                assert ready.status_code == 503
                subscribers = ready.json()["checks"]["subscribers"]
                assert subscribers["projection:site_activity"] == {"status": "down"}
                await private_server.start()
                restarted_at = time.monotonic()
                before = load.count(201)
                await load.until(lambda: load.count(201) >= before + 30)
            finally:
                load.stopping.set()
                await asyncio.gather(*clients)

            async def caught_up() -> bool:
                answer = await http.get("/readyz")
                subs = answer.json()["checks"].get("subscribers", {})
                return answer.status_code == 200 and all(
                    s["status"] in ("running", "done") and s["lag"] in (0, None)
                    for s in subs.values()
                )

            await _wait(caught_up, "the subscribers to catch up")
            caught_up_at = time.monotonic()
        assert all(s.failures >= 1 for s in runners)

    statuses = Counter(status for _, status in load.answers)
    unavailable = [t for t, status in load.answers if status == 503]
    back = min(t for t, status in load.answers if status == 201 and t > unavailable[-1])
    print(
        f"\noutage: statuses {dict(statuses)}; 503s from {unavailable[0] - stopped_at:.2f} s to "
        f"{unavailable[-1] - stopped_at:.2f} s after the stop; Postgres started again at "
        f"{restarted_at - stopped_at:.2f} s; first 201 {back - restarted_at:.2f} s and caught "
        f"up {caught_up_at - restarted_at:.2f} s after the start"
    )
    assert set(statuses) <= {201, 503}, statuses
    assert load.unavailable_without_retry_after == 0
    conn = await asyncpg.connect(private_server.owner_url)
    try:
        logged = dict(
            await conn.fetch(
                "SELECT site_id, count(*) FROM events WHERE site_id IS NOT NULL GROUP BY site_id"
            )
        )
        live = await generations.live(conn, "site_activity")
        assert live is not None
        sites = live.tables["sites"]
        modelled = dict(await conn.fetch(f"SELECT site_id, event_count FROM {sites}"))
    finally:
        await conn.close()
    assert load.acknowledged <= set(logged), "an acknowledged command is not in the log"
    assert modelled == logged, "the read model differs from the log"
