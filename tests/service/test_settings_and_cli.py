"""Settings refuse development defaults in production; the CLI says what to run."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from service.auth.tokens import TokenVerifier
from service.cli import main
from service.cli_database import check_schema_now
from service.database import SchemaBehind
from service.settings import DEV_JWT_SECRET, Settings
from tests.conftest import ScratchDatabase
from tests.service.test_production_settings import JWT_SECRET, KEK, LOG_KEY, PLAYBOOK_KEY


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValueError, match="LEDGER_JWT_SECRET"):
        Settings(env="production", database_url="postgresql://x@db/ledger")
    with pytest.raises(ValueError, match="LEDGER_JWT_SECRET"):
        Settings(env="production", database_url="postgresql://x@db/ledger", jwt_secret="short")
    with pytest.raises(ValueError, match="LEDGER_PLAYBOOK_SIGNING_KEY"):
        Settings(env="production", database_url="postgresql://x@db/l", jwt_secret=JWT_SECRET)
    ok = Settings(
        env="production",
        database_url="postgresql://x@db/l",
        jwt_secret=JWT_SECRET,
        playbook_signing_key=PLAYBOOK_KEY,
        log_signing_key=LOG_KEY,
        secret_kek=KEK,
    )
    assert ok.jwt_secret != DEV_JWT_SECRET


def test_cli_refuses_to_start_with_a_default_secret_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEDGER_ENV", "production")
    monkeypatch.setenv("LEDGER_DATABASE_URL", "postgresql://x@db/ledger")
    from service.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["token", "--sub", "a", "--role", "administrator"]) == 2
    finally:
        get_settings.cache_clear()
    assert "LEDGER_JWT_SECRET" in capsys.readouterr().err


def test_token_command_prints_a_token_the_service_accepts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(
            [
                "token",
                "--sub",
                "alice",
                "--role",
                "operations_lead",
                "--site",
                "s1",
                "--agency",
                "a1",
                "--ttl",
                "15m",
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip()
    principal = asyncio.run(TokenVerifier(Settings()).verify(token))
    assert principal.sub == "alice"
    assert principal.sites == {"s1"}
    assert principal.agency == "a1"


async def test_serve_refuses_a_database_whose_schema_is_behind(database: ScratchDatabase) -> None:
    scratch = f"behind_{uuid.uuid4().hex[:10]}"
    owner = await asyncpg.connect(database.owner_url)
    try:
        await owner.execute(f"CREATE DATABASE {scratch}")
    finally:
        await owner.close()
    empty = database.owner_url.replace(f"/{database.name}", f"/{scratch}")
    try:
        with pytest.raises(SchemaBehind, match="sophmate-ledger migrate"):
            await asyncio.to_thread(check_schema_now, empty, Settings())
    finally:
        owner = await asyncpg.connect(database.owner_url)
        await owner.execute(f"DROP DATABASE {scratch} WITH (FORCE)")
        await owner.close()
