"""How a CLI command reaches its database: LEDGER_DATABASE_URL, or the embedded server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

from service.settings import Settings

if TYPE_CHECKING:
    import asyncpg


@contextmanager
def database_urls(settings: Settings) -> Iterator[tuple[str, str]]:
    """(owner URL for migrations, runtime URL) for the configured or the embedded server."""
    if settings.database_url is not None:
        yield settings.migration_database_url or settings.database_url, settings.database_url
        return
    from service.embedded import start_embedded

    embedded = start_embedded(settings.data_dir / "pgdata", settings.app_role)
    try:
        yield embedded.owner_url, embedded.app_url
    finally:
        embedded.server.cleanup()


@asynccontextmanager
async def runtime_pool(
    url: str, settings: Settings, max_size: int = 4
) -> AsyncIterator[asyncpg.Pool]:
    """A small pool as the runtime role, after checking the schema is at head."""
    from service.database import check_schema, create_pool

    sized = settings.model_copy(update={"pool_min_size": 1, "pool_max_size": max_size})
    pool = await create_pool(url, sized)
    try:
        await check_schema(pool)
        yield pool
    finally:
        try:
            await asyncio.wait_for(pool.close(), timeout=10)
        except TimeoutError:
            pool.terminate()


def check_schema_now(url: str, settings: Settings) -> None:
    """Raise SchemaBehind unless the database is migrated to head."""

    async def check() -> None:
        async with runtime_pool(url, settings, max_size=1):
            pass

    asyncio.run(check())
