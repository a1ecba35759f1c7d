from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.conftest import ScratchDatabase


@pytest.fixture
async def owner(database: ScratchDatabase) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database.owner_url)
    yield conn
    await conn.close()
