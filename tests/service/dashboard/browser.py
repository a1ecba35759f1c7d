"""The browser tests' machinery: the system Chromium (installed when missing), one browser per
session, and the service served over real HTTP for it."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright

from service.app import create_app
from service.settings import Settings

OUTPUT = (
    Path(os.environ.get("LEDGER_TEST_OUTPUT", Path(__file__).parents[2] / "output")) / "dashboard"
)
CANDIDATES = ("chromium", "chromium-browser")


def system_chromium() -> str:
    """The Debian `chromium` package's browser; installed here when missing (as root)."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            subprocess.run(command, env=env, capture_output=True, check=False, timeout=900)
        for name in CANDIDATES:
            found = shutil.which(name)
            if found:
                return found
    pytest.skip(
        "the browser tests need the system Chromium (Debian package `chromium`); it is not "
        "installed and could not be installed here (apt-get needs root and a package mirror)"
    )


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    path = system_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        await launched.close()


class LiveServer:
    """The app served by uvicorn on a free port, in the test's own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> str:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *_: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


def shot_path(name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT / f"{name}.png"
