"""The sender's HTTP/1.1 client: POST one body to a checked address, keep the connection.

Small on purpose. A webhook attempt needs one request shape (POST with a length), the answer's
status and two headers, and at most `max_response_bytes` of its body; what it must guarantee is
where it connects: to the address the SSRF guard checked, never to a name resolved again, with
the URL's host only in `Host` and in TLS (server name and certificate check). Redirects are
answers like any other, never followed. General clients spent most of a sender's time on
per-request pool bookkeeping (measured: httpx/httpcore under 200 concurrent streams).

Connections are kept per destination (scheme, checked address, port, host name), so keep-alive
never carries one name's request to an address checked for another.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field

IDLE_SECONDS = 4.0
"""Under the usual 5 s keep-alive of servers: a connection idle longer is not reused, since
the endpoint may be closing it just as the request goes out."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    address: str
    port: int
    server_name: str


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None


class ProtocolError(Exception):
    """The endpoint's answer is not HTTP/1.x as a client can read it."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def close(self) -> None:
        self.writer.close()


class Client:
    def __init__(self, *, timeout_seconds: float, max_response_bytes: int, max_idle: int) -> None:
        self.timeout = timeout_seconds
        self.max_response_bytes = max_response_bytes
        self.max_idle = max_idle
        self.tls = ssl.create_default_context()
        self._idle: dict[Origin, list[_Connection]] = {}

    async def post(
        self, origin: Origin, target: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        """One attempt, within `timeout_seconds` in all (connect, send, answer)."""
        head = [f"POST {target} HTTP/1.1"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head.append(f"content-length: {len(body)}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        async with asyncio.timeout(self.timeout):
            reused = self._checkout(origin)
            if reused is not None:
                try:
                    return await self._exchange(origin, reused, request)
                except (ConnectionError, asyncio.IncompleteReadError):
                    pass  # closed by the endpoint while idle: once more on a new connection
            return await self._exchange(origin, await self._connect(origin), request)

    async def _connect(self, origin: Origin) -> _Connection:
        tls = self.tls if origin.scheme == "https" else None
        reader, writer = await asyncio.open_connection(
            origin.address,
            origin.port,
            ssl=tls,
            server_hostname=origin.server_name if tls else None,
            limit=64 * 1024,
        )
        return _Connection(reader, writer)

    def _checkout(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since < IDLE_SECONDS and not connection.reader.at_eof():
                return connection
            connection.close()
        return None

    def _checkin(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) >= self.max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def _exchange(self, origin: Origin, connection: _Connection, request: bytes) -> Answer:
        keep = False
        try:
            connection.writer.write(request)
            await connection.writer.drain()
            status, fields = await _read_head(connection.reader)
            while 100 <= status < 200:  # interim answers (103 Early Hints): the final one follows
                status, fields = await _read_head(connection.reader)
            keep = await self._drain_body(connection.reader, status, fields)
            return Answer(status, fields.get("retry-after"))
        finally:
            if keep:
                self._checkin(origin, connection)
            else:
                connection.close()

    async def _drain_body(
        self, reader: asyncio.StreamReader, status: int, fields: dict[str, str]
    ) -> bool:
        """Read at most the cap of the answer's body: only its status matters, and an endpoint
        must not make the sender hold a large body. True when the connection can be reused."""
        reusable = fields.get("connection", "").lower() != "close"
        if status in (204, 304):
            return reusable
        if "chunked" in fields.get("transfer-encoding", "").lower():
            return await self._drain_chunked(reader) and reusable
        length = fields.get("content-length")
        if length is None:
            await reader.read(self.max_response_bytes)  # until the endpoint closes; no reuse
            return False
        if not length.isdigit():
            raise ProtocolError("bad content-length")
        if int(length) > self.max_response_bytes:
            await reader.readexactly(self.max_response_bytes)
            return False
        await reader.readexactly(int(length))
        return reusable

    async def _drain_chunked(self, reader: asyncio.StreamReader) -> bool:
        read = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError as error:
                raise ProtocolError("bad chunk size") from error
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return True
            read += size
            if read > self.max_response_bytes:
                return False
            await reader.readexactly(size + 2)

    async def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as error:
        raise ProtocolError("answer head too large") from error
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise ProtocolError("not an HTTP/1.x answer")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    return int(code), fields
