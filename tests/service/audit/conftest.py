"""Audit tests seal by hand (log_fixtures.sealer), so the app runs no sealer of its own."""

from __future__ import annotations

import pytest

from service.settings import Settings
from tests.conftest import APP_ROLE, ScratchDatabase


@pytest.fixture
def settings(database: ScratchDatabase) -> Settings:
    return Settings(env="test", database_url=database.app_url, app_role=APP_ROLE, run_sealer=False)
