"""A ceiling written in an afternoon: one FastAPI + asyncpg endpoint that approves a run.

It checks an HS256 JWT with python-jose (signature, issuer, audience, expiry, the role), inserts
the event into an event-like table and upserts the workflow's head, in one transaction, and
answers JSON. No event model, no hash chain, no idempotency, no tenancy: what the service's
approve-run does at least. Served by uvicorn in its own process (`python -m bench.handwritten`),
as `sophmate-ledger serve` serves, and loaded by the same wrk.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, Header, HTTPException
from jose import JWTError, jwt

from bench.payload import event_data, event_metadata

ISSUER = AUDIENCE = "bench-handwritten"
TABLES = (
    """CREATE TABLE IF NOT EXISTS hand_log (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        stream_id text NOT NULL,
        stream_version int NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (stream_id, stream_version)
    )""",
    """CREATE TABLE IF NOT EXISTS hand_heads (
        stream_id text PRIMARY KEY,
        version int NOT NULL,
        last_type text NOT NULL,
        updated_at timestamptz NOT NULL
    )""",
)
INSERT = """INSERT INTO hand_log (stream_id, stream_version, type, data, metadata)
    VALUES ($1, 1, 'RunApproved', $2::jsonb, $3::jsonb) ON CONFLICT DO NOTHING RETURNING position"""
UPSERT = """INSERT INTO hand_heads (stream_id, version, last_type, updated_at)
    VALUES ($1, 1, 'RunApproved', now())
    ON CONFLICT (stream_id) DO UPDATE SET version = hand_heads.version + 1,
        last_type = excluded.last_type, updated_at = excluded.updated_at"""


def create_app(database_url: str, secret: str) -> FastAPI:
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The service's default pool size, so both wait for connections alike.
        pools.append(await asyncpg.create_pool(database_url, min_size=20, max_size=20))
        yield
        await pools[0].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/workflows/{workflow_id}/runs/{run_id}/approve")
    async def approve(
        workflow_id: str, run_id: str, authorization: Annotated[str, Header()] = ""
    ) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                authorization.removeprefix("Bearer "),
                secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
            )
        except JWTError:
            raise HTTPException(401, "bad token") from None
        if "operations_lead" not in claims.get("roles", []):
            raise HTTPException(403, "not an approver")
        data = event_data(run_id, 1) | {"workflow_id": workflow_id}
        metadata = event_metadata() | {"actor": claims["sub"]}
        async with pools[0].acquire() as conn, conn.transaction():
            position = await conn.fetchval(INSERT, run_id, json.dumps(data), json.dumps(metadata))
            if position is None:
                raise HTTPException(409, "already approved")
            await conn.execute(UPSERT, workflow_id)
        return {"stream_id": run_id, "stream_version": 1, "position": position}

    return app


def token(secret: str) -> str:
    now = int(time.time())
    claims = {"sub": "olu", "roles": ["operations_lead"], "sites": ["bench-shop"]}
    claims |= {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 4 * 3600}
    encoded: str = jwt.encode(claims, secret, algorithm="HS256")
    return encoded


def lines(count: int) -> list[str]:
    """Paths of `count` different runs over 500 workflows."""
    return [f"POST /v1/workflows/wf-{n % 500}/runs/run-{n}/approve" for n in range(count)]


async def create_tables(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        for ddl in TABLES:
            await conn.execute(ddl)
    finally:
        await conn.close()


@contextmanager
def serving(admin_url: str) -> Iterator[tuple[str, str, int]]:
    """(base URL, a valid token, pid) of the endpoint in a process of its own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = secrets.token_urlsafe(36)
    env = os.environ | {"HAND_DATABASE_URL": admin_url, "HAND_SECRET": secret}
    command = [sys.executable, "-m", "bench.handwritten", str(port)]
    with tempfile.TemporaryDirectory(prefix="ledger-hand-") as folder:
        log = Path(folder) / "hand.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not _listening(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the endpoint did not start:\n{log.read_text()}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}", token(secret), process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def main() -> None:
    import uvicorn

    app = create_app(os.environ["HAND_DATABASE_URL"], os.environ["HAND_SECRET"])
    # As `sophmate-ledger serve` runs uvicorn: one process, its logging left alone.
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None)


if __name__ == "__main__":
    main()
