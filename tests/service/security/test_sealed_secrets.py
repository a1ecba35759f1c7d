"""Issue 13 item 4: site-key secrets are sealed under the KEK, and the KEK rotates.

End to end: a key registered under KEK A signs tokens; the settings move to KEK B with A as
previous (tokens still verify); `sophmate-ledger rotate-kek` re-seals every row under B; with A
gone the key still works, and a ledger holding only A refuses it (401, never 500). Migration 0009
seals rows that were stored in clear before it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command

from service.auth.keyring import site_key_purpose
from service.database import _alembic_config
from service.kek_rotation import rotate_at
from service.secret_box import SecretBox, SecretUnreadable, decode_key, kek_id, new_kek
from service.settings import Settings, get_settings, secret_box_of
from tests.conftest import APP_ROLE, ScratchDatabase, TokenFactory, _admin, _owner_url
from tests.service.test_jwks import ledger_client
from tests.support import bearer, site_body

KEK_A, KEK_B = new_kek(), new_kek()


def box(current: str, *previous: str) -> SecretBox:
    found = [decode_key(kek) for kek in (current, *previous)]
    assert all(key is not None for key in found)
    keys = [key for key in found if key is not None]
    return SecretBox.of(keys[0], keys[1:])


# --- the box alone --------------------------------------------------------------------------


def test_a_sealed_value_opens_for_its_purpose_only() -> None:
    sealed = box(KEK_A).seal(b"s3cret", "site_keys.secret:k1")
    assert b"s3cret" not in sealed
    assert sealed[1:9] == kek_id(decode_key(KEK_A) or b"")
    assert box(KEK_A).open_sealed(sealed, "site_keys.secret:k1") == b"s3cret"
    for purpose in ("site_keys.secret:k2", "webhooks.secret:k1"):
        with pytest.raises(SecretUnreadable):
            box(KEK_A).open_sealed(sealed, purpose)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for broken in (tampered, sealed[:20], b"", b"\x02" + sealed[1:]):
        with pytest.raises(SecretUnreadable):
            box(KEK_A).open_sealed(broken, "site_keys.secret:k1")


def test_previous_keks_open_and_the_current_one_seals() -> None:
    old = box(KEK_A).seal(b"v", "p")
    rotated = box(KEK_B, KEK_A)
    assert rotated.open_sealed(old, "p") == b"v"
    assert not rotated.sealed_under_current(old)
    assert rotated.sealed_under_current(rotated.seal(b"v", "p"))
    with pytest.raises(SecretUnreadable):
        box(KEK_B).open_sealed(old, "p")


def test_the_development_kek_is_derived_from_the_jwt_secret() -> None:
    one, two = Settings(jwt_secret="x" * 40), Settings(jwt_secret="y" * 40)
    assert secret_box_of(one) == secret_box_of(Settings(jwt_secret="x" * 40))
    assert secret_box_of(one).current != secret_box_of(two).current


# --- in the database ------------------------------------------------------------------------


async def register_key(http: httpx.AsyncClient, token: TokenFactory) -> dict[str, Any]:
    admin = bearer(token())
    site = await http.post("/v1/sites", json=site_body(), headers=admin)
    assert site.status_code in (201, 409), site.text
    created = await http.post("/v1/sites/acme-shop/keys", headers=admin)
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    answer: dict[str, Any] = created.json()
    return answer


async def reads_with(
    settings: Settings, token: TokenFactory, key: dict[str, Any], **kek: str
) -> int:
    signed = token(
        sub="wp-editor", roles=("editor",), secret=key["secret"], kid=key["kid"], ttl_seconds=300
    )
    async with ledger_client(settings, **kek) as http:
        return (await http.get("/v1/sites/acme-shop", headers=bearer(signed))).status_code


async def sealed_rows(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return list(await pool.fetch("SELECT kid, sealed_secret FROM site_keys ORDER BY kid"))


async def test_rotation_end_to_end(
    settings: Settings, token: TokenFactory, pool: asyncpg.Pool, database: ScratchDatabase
) -> None:
    async with ledger_client(settings, secret_kek=KEK_A) as http:
        key = await register_key(http, token)
    ((kid, sealed),) = await sealed_rows(pool)
    assert kid == key["kid"]
    assert key["secret"].encode() not in sealed
    assert box(KEK_A).open_sealed(sealed, site_key_purpose(kid)) == key["secret"].encode()

    assert await reads_with(settings, token, key, secret_kek=KEK_A) == 200
    assert await reads_with(settings, token, key, secret_kek=KEK_B) == 401  # A not configured
    both = {"secret_kek": KEK_B, "secret_kek_previous": KEK_A}
    assert await reads_with(settings, token, key, **both) == 200

    first = await rotate_at(database.owner_url, box(KEK_B, KEK_A))
    assert (first.resealed, first.current, first.unreadable) == (1, 0, 0)
    again = await rotate_at(database.owner_url, box(KEK_B, KEK_A))
    assert (again.resealed, again.current, again.unreadable) == (0, 1, 0)
    ((_, resealed),) = await sealed_rows(pool)
    assert box(KEK_B).sealed_under_current(resealed)

    assert await reads_with(settings, token, key, secret_kek=KEK_B) == 200
    assert await reads_with(settings, token, key, secret_kek=KEK_A) == 401


async def test_the_cli_rotates_and_reports_what_it_cannot_open(
    settings: Settings,
    token: TokenFactory,
    pool: asyncpg.Pool,
    database: ScratchDatabase,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from service.cli import main

    async with ledger_client(settings, secret_kek=KEK_A) as http:
        key = await register_key(http, token)
    monkeypatch.setenv("LEDGER_DATABASE_URL", database.app_url)
    monkeypatch.setenv("LEDGER_MIGRATION_DATABASE_URL", database.owner_url)
    monkeypatch.setenv("LEDGER_SECRET_KEK", KEK_B)
    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(main, ["rotate-kek"]) == 2  # A is not configured
        assert "unreadable 1" in capsys.readouterr().out
        monkeypatch.setenv("LEDGER_SECRET_KEK_PREVIOUS", KEK_A)
        get_settings.cache_clear()
        assert await asyncio.to_thread(main, ["rotate-kek"]) == 0
        assert "re-sealed 1" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert await reads_with(settings, token, key, secret_kek=KEK_B) == 200


async def test_the_runtime_role_reads_no_clear_secret_and_cannot_rewrite_one(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool, database: ScratchDatabase
) -> None:
    await register_key(client, token)
    columns = await pool.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'site_keys'"
    )
    assert {row["column_name"] for row in columns} == {
        "kid",
        "site_id",
        "sealed_secret",
        "created_at",
    }
    for statement in (
        "UPDATE site_keys SET sealed_secret = sealed_secret",
        "DELETE FROM site_keys",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(statement)
    owner = await asyncpg.connect(database.owner_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await owner.execute("UPDATE site_keys SET site_id = 'beta-shop'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await owner.execute("DELETE FROM site_keys")
    finally:
        await owner.close()


async def test_a_sealed_secret_moved_to_another_key_does_not_open(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool, database: ScratchDatabase
) -> None:
    """Someone with the owner's database credentials but not the KEK swaps two rows' secrets:
    each is bound to its own kid, so neither key verifies any more (401, not 500)."""
    first, second = await register_key(client, token), await register_key(client, token)
    owner = await asyncpg.connect(database.owner_url)
    try:
        await owner.execute(
            "UPDATE site_keys SET sealed_secret = (SELECT sealed_secret FROM site_keys "
            "WHERE kid = $2) WHERE kid = $1",
            first["kid"],
            second["kid"],
        )
    finally:
        await owner.close()
    signed = token(roles=("editor",), secret=first["secret"], kid=first["kid"], ttl_seconds=300)
    assert (await client.get("/v1/sites/acme-shop", headers=bearer(signed))).status_code == 401


@pytest.fixture
async def at_0008(server_url: str) -> AsyncIterator[str]:
    """A fresh database migrated up to 0008 only: site keys still in clear."""
    name = f"ledger_m_{uuid.uuid4().hex[:12]}"
    conn = await _admin(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = _owner_url(server_url, name)
    await asyncio.to_thread(command.upgrade, _alembic_config(url, APP_ROLE), "0008")
    yield url
    conn = await _admin(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def test_migration_0009_seals_the_secrets_stored_in_clear(at_0008: str) -> None:
    owner = await asyncpg.connect(at_0008)
    try:
        await owner.execute(
            "INSERT INTO site_keys (kid, site_id, secret) VALUES ('acme-shop.0001', 'acme-shop', "
            "'a-clear-secret-from-before-0009')"
        )
    finally:
        await owner.close()
    sealing = box(KEK_A)
    config = _alembic_config(at_0008, APP_ROLE)
    config.attributes["secret_box"] = sealing
    await asyncio.to_thread(command.upgrade, config, "0009")
    owner = await asyncpg.connect(at_0008)
    try:
        (row,) = await owner.fetch("SELECT * FROM site_keys")
        dumped = await owner.fetchval("SELECT string_agg(t::text, '') FROM site_keys t")
    finally:
        await owner.close()
    assert "secret" not in dict(row)
    assert "a-clear-secret" not in dumped
    opened = sealing.open_sealed(row["sealed_secret"], site_key_purpose("acme-shop.0001"))
    assert opened == b"a-clear-secret-from-before-0009"
