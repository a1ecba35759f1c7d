"""The image's install step, run in a fresh venv from the runtime lock, then the commands the
manifests run (migrate, serve with its probes, worker) against a real, empty database.

No container runtime here: this runs what the Dockerfile's RUN lines and the manifests' args
run, with the manifests' configuration."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.database import head_revision
from tests.conftest import APP_PASSWORD, APP_ROLE, with_credentials
from tests.deploy.manifests import DEPLOY, dockerfile_stages, pod_spec, resource

REPO = DEPLOY.parent
PREFIX = "/opt/ledger"

pytestmark = pytest.mark.slow


def _build_context(into: Path) -> None:
    """What the build stage COPYs, where it COPYs it."""
    build, _ = dockerfile_stages()
    for instruction in build:
        if instruction.startswith("COPY "):
            *sources, target = instruction.split()[1:]
            for source in sources:
                place = into / target if target.endswith("/") or len(sources) > 1 else None
                destination = (place / Path(source).name) if place else into / target
                destination.parent.mkdir(parents=True, exist_ok=True)
                if (REPO / source).is_dir():
                    shutil.copytree(
                        REPO / source, destination, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy2(REPO / source, destination)


def _install(context: Path, venv: Path) -> None:
    build, _ = dockerfile_stages()
    for instruction in build:
        if instruction.startswith("RUN "):
            command = instruction.removeprefix("RUN ").replace(PREFIX, str(venv))
            subprocess.run(command, shell=True, cwd=context, check=True, timeout=600)


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("image")
    context, venv = root / "src", root / "venv"
    context.mkdir()
    _build_context(context)
    _install(context, venv)
    return venv


@pytest.fixture
async def empty_database(server_url: str, template: str) -> AsyncIterator[tuple[str, str]]:
    """(owner URL, app URL) of a database with nothing in it: migrate must make the schema."""
    name = f"ledger_img_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    owner = with_credentials(server_url, "postgres", name)
    yield owner, with_credentials(server_url, APP_ROLE, name, APP_PASSWORD)
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def _environment(secrets: Path, port: int) -> dict[str, str]:
    """The ConfigMap's variables, the Secrets as files; loopback instead of 0.0.0.0 here."""
    config = resource("ConfigMap", "sophmate-ledger")["data"]
    keep = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return {
        **keep,
        **config,
        "LEDGER_SECRETS_DIR": str(secrets),
        "LEDGER_HOST": "127.0.0.1",
        "LEDGER_PORT": str(port),
        "LEDGER_APP_ROLE": APP_ROLE,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _args(name: str) -> list[str]:
    args: list[str] = pod_spec(resource(*name.split("/")))["containers"][0]["args"]
    return args


CLEAN_EXITS = (0, -signal.SIGTERM)
"""uvicorn re-raises the SIGTERM it handled once it has shut down, as a process should."""


async def _stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=60)


async def test_the_runtime_venv_migrates_serves_and_works(
    image_venv: Path, empty_database: tuple[str, str], tmp_path: Path
) -> None:
    listed = await asyncio.to_thread(
        subprocess.run,
        [str(image_venv / "bin/python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = listed.stdout.lower()
    for dev_tool in ("pytest", "mypy", "ruff", "pip-tools", "kubernetes-validate"):
        assert f"\n{dev_tool}==" not in f"\n{installed}", dev_tool
    owner_url, app_url = empty_database
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for variable, value in {
        "LEDGER_DATABASE_URL": app_url,
        "LEDGER_MIGRATION_DATABASE_URL": owner_url,
        # Random-looking: production refuses regular secrets (48 times "j").
        "LEDGER_JWT_SECRET": "BpzaGV8zppcYJncoVLWU6h38ZljTypi7ADsZltRMHXVvnDkQ",
        "LEDGER_SECRET_KEK": "yxUobD5RpQ4mMl_HILHJ5RF-g_TJy4wU75RY_7LazqY",
        "LEDGER_PLAYBOOK_SIGNING_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU",
        "LEDGER_LOG_SIGNING_KEY": "WllYV1ZVVFNSUVBPTk1MS0pJSEdGRURDQkE5ODc2NTQ",
    }.items():
        (secrets / variable).write_text(value + "\n")
    port = _free_port()
    env = _environment(secrets, port)
    cli = str(image_venv / "bin/sophmate-ledger")

    migrated = await asyncio.to_thread(
        subprocess.run,
        [cli, *_args("Job/sophmate-ledger-migrate-0-1-0")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    conn = await asyncpg.connect(app_url)
    assert await conn.fetchval("SELECT version_num FROM alembic_version") == head_revision()
    await conn.close()
    pruned = await asyncio.to_thread(
        subprocess.run,
        [cli, *_args("CronJob/sophmate-ledger-prune-idempotency")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.startswith("pruned 0 idempotency record(s)")

    api = resource("Deployment", "sophmate-ledger-api")
    probes = pod_spec(api)["containers"][0]
    serve = await asyncio.create_subprocess_exec(
        cli, *_args("Deployment/sophmate-ledger-api"), env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            ready = None
            for _ in range(300):  # bounded: until the server listens
                try:
                    ready = await http.get(probes["readinessProbe"]["httpGet"]["path"])
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert ready is not None
            assert ready.status_code == 200, ready.text
            live = await http.get(probes["livenessProbe"]["httpGet"]["path"])
            assert live.status_code == 200
    finally:
        assert await _stop(serve) in CLEAN_EXITS

    worker = await asyncio.create_subprocess_exec(
        cli, *_args("Deployment/sophmate-ledger-worker"), env=env, stderr=asyncio.subprocess.PIPE
    )
    assert worker.stderr is not None
    try:
        started = await asyncio.wait_for(worker.stderr.readline(), timeout=120)
        while b"worker started" not in started and started:
            started = await asyncio.wait_for(worker.stderr.readline(), timeout=120)
        assert b"worker started" in started
    finally:
        assert await _stop(worker) in CLEAN_EXITS
