"""History tests read the log itself: no projection runner in the app, so that a runner's short
transactions never hold back the commit-safe horizon in the middle of a page."""

from __future__ import annotations

import pytest

from events.envelope import StoredEvent
from events.store import EventStore
from service.settings import Settings
from tests.conftest import ScratchDatabase, TokenFactory
from tests.service.history_log import root_headers, seed_log, settings_without_projections


@pytest.fixture
def settings(database: ScratchDatabase) -> Settings:
    return settings_without_projections(database)


@pytest.fixture
async def seeded(store: EventStore) -> list[StoredEvent]:
    return await seed_log(store)


@pytest.fixture
def root(token: TokenFactory) -> dict[str, str]:
    return root_headers(token)
