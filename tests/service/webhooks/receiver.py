"""A real HTTP endpoint for webhook tests: records what arrives, answers as a test scripts it."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    answers: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    """Scripted answers, one per request; 200 once they run out."""
    failing: dict[bytes, int] = field(default_factory=dict)
    """Answer 500 to this many requests whose body holds the key (before the scripted ones)."""
    delay_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, status: int, times: int = 1, **headers: str) -> None:
        for _ in range(times):
            self.answers.append((status, {k.replace("_", "-"): v for k, v in headers.items()}))

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received]


@contextmanager
def receiving(host: str = "127.0.0.1") -> Iterator[Receiver]:
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder[0]
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            if receiver.delay_seconds:
                threading.Event().wait(receiver.delay_seconds)
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                match = next((k for k, n in receiver.failing.items() if n and k in body), None)
                if match is not None:
                    receiver.failing[match] -= 1
                    status, headers = 500, {}
                else:
                    status, headers = receiver.answers.popleft() if receiver.answers else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    holder.append(Receiver(f"http://{host}:{server.server_address[1]}/hooks"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
