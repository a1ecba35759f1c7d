"""The HTTP server: uvicorn, in one process or several, with TCP_NODELAY and a graceful stop.

On SIGTERM: /readyz fails at once while requests are still served, and every response carries
`Connection: close` (LEDGER_SHUTDOWN_DRAIN_SECONDS), so a load balancer and keep-alive clients
move away; then the listener closes, in-flight requests get LEDGER_SHUTDOWN_GRACE_SECONDS to
finish, the subscribers stop at a checkpoint, and the call returns normally, so whoever started
the embedded Postgres stops it (uvicorn's own re-raise of SIGTERM would kill the process first).
SIGINT (Ctrl-C) skips the drain period; a second signal forces the exit.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Iterator, MutableMapping
from types import FrameType
from typing import Any

import uvicorn

from service.settings import Settings

log = logging.getLogger("sophmate.ledger.server")

DRAINING = "draining"
"""The lifespan-state key (request.scope["state"]) that is true once SIGTERM has arrived."""

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def is_draining(scope: MutableMapping[str, Any]) -> bool:
    return bool(scope.get("state", {}).get(DRAINING))


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound here, not by uvicorn: asyncio sets TCP_NODELAY on accepted connections only when
    the listener's protocol is IPPROTO_TCP, which uvicorn's own socket (for --workers) is not;
    each small response would then wait for the client's delayed ACK (~40 ms)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class LedgerServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds
        self.signalled = False

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # As uvicorn's, but without raising the signal again once stopped.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.signalled:
            self.should_exit = self.force_exit = True
            return
        self.signalled = True
        lifespan = getattr(self, "lifespan", None)
        if lifespan is not None:
            lifespan.state[DRAINING] = True
        if sig != signal.SIGTERM or self.drain_seconds <= 0:
            self.should_exit = True
            return
        log.info("SIGTERM: draining", extra={"drain_seconds": self.drain_seconds})
        # A signal handler runs between bytecodes of the main thread; the timer thread only
        # flips the flag uvicorn's main loop polls.
        timer = threading.Timer(self.drain_seconds, self._stop_accepting)
        timer.daemon = True
        timer.start()

    def _stop_accepting(self) -> None:
        self.should_exit = True


def _config(settings: Settings, app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        log_config=None,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
        # The lifespan state is what the drain flag travels in.
        lifespan="on",
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default; the ledger reads it
        # itself, from LEDGER_TRUSTED_PROXIES only (service/requests.py: client_address).
        proxy_headers=False,
    )


def serve(settings: Settings, workers: int = 1) -> None:
    """Serve `settings` until SIGTERM or SIGINT, in `workers` processes."""
    sock = listening_socket(settings.host, settings.port)
    try:
        if workers <= 1:
            from service.app import create_app

            app = create_app(settings)
            LedgerServer(_config(settings, app), settings.shutdown_drain_seconds).run([sock])
            return
        _supervise_workers(settings, workers, sock)
    finally:
        sock.close()


def _worker(settings: Settings, index: int, sock: socket.socket) -> None:
    # Its own process group: Ctrl-C reaches the parent only, which passes it on once.
    os.setpgrp()
    from service.app import create_app

    # One worker runs the subscribers: in the others they would only stand by, each holding
    # a connection per projection for its lock.
    update = {} if index == 0 else {"run_projections": False}
    app = create_app(settings.model_copy(update=update))
    LedgerServer(_config(settings, app), settings.shutdown_drain_seconds).run([sock])


def _supervise_workers(settings: Settings, workers: int, sock: socket.socket) -> None:
    """N processes accept on one socket; a worker that dies is started again. SIGTERM and
    SIGINT are passed on to every worker, which drains and stops as a single process does."""
    spawn = multiprocessing.get_context("spawn")
    stopping = threading.Event()
    received: list[int] = []

    def on_signal(sig: int, frame: FrameType | None) -> None:
        received.append(sig)
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in _SIGNALS}

    def start(index: int) -> Any:
        process = spawn.Process(target=_worker, args=(settings, index, sock), daemon=False)
        process.start()
        return process

    processes = [start(index) for index in range(workers)]
    try:
        while not stopping.wait(0.5):
            for index, process in enumerate(processes):
                if not process.is_alive():
                    log.warning("server worker died; starting it again", extra={"index": index})
                    processes[index] = start(index)
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, received[0] if received else signal.SIGTERM)
        for process in processes:
            process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
