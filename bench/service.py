"""The service under test, as an operator runs it: `sophmate-ledger serve`, reached over HTTP.

Only the CLI and the documented routes are used (serve, token, /readyz), so the bench measures
whatever the service does inside, whichever way its write path or its serving changes.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.server import APP_ROLE, BenchDatabase

CLI = Path(sys.executable).with_name("sophmate-ledger")
READY_SECONDS = 90


@dataclass(frozen=True)
class Service:
    base_url: str
    pid: int
    workers: int | None
    """`--workers N` as passed, or None: served as `make run` serves."""
    env: dict[str, str]

    def cpu_seconds(self) -> float:
        """CPU time of the serving process and its children (workers), so far."""
        try:
            root = psutil.Process(self.pid)
            total = 0.0
            for proc in [root, *root.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
            return total
        except psutil.NoSuchProcess:
            return 0.0

    def token(self, sub: str, role: str, site: str) -> str:
        """A development token from the CLI, signed with the secret this service checks."""
        done = subprocess.run(
            [str(CLI), "token", "--sub", sub, "--role", role, "--site", site, "--ttl", "4h"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()


def serve_supports_workers() -> bool:
    done = subprocess.run([str(CLI), "serve", "--help"], capture_output=True, text=True)
    return "--workers" in done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(db: BenchDatabase, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_ENV="development",
        LEDGER_HOST="127.0.0.1",
        LEDGER_PORT=str(port),
        LEDGER_DATABASE_URL=db.app_url,
        LEDGER_MIGRATION_DATABASE_URL=db.admin_url,
        LEDGER_APP_ROLE=APP_ROLE,
        LEDGER_JWT_SECRET=secrets.token_urlsafe(36),
    )
    return env


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"serve not ready after {READY_SECONDS} s:\n{log.read_text()[-3000:]}")


@contextmanager
def serving(db: BenchDatabase, workers: int | None) -> Iterator[Service]:
    """`sophmate-ledger serve --migrate` on a free port of its own, stopped as Ctrl-C stops it."""
    port = _free_port()
    env = _environment(db, port)
    command = [str(CLI), "serve", "--migrate"]
    if workers is not None:
        command += ["--workers", str(workers)]
    with tempfile.TemporaryDirectory(prefix="ledger-serve-") as folder:
        log = Path(folder) / "serve.log"
        env["LEDGER_DATA_DIR"] = str(Path(folder) / "unused")
        with log.open("wb") as sink:
            process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base_url, process, log)
            yield Service(base_url, process.pid, workers, env)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
