"""The slow tests (a fresh venv) run after all the others: several suites take their "now" at
import, and minutes spent before them would age what they measure."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)
