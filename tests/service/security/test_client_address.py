"""Issue 13 item 7: the audited client address believes X-Forwarded-For only from a trusted
proxy, and records a valid address or none, whatever the header holds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from events.store import EventStore
from service.app import create_app
from service.settings import Settings
from tests.conftest import TokenFactory
from tests.support import bearer, site_body

PROXY = "10.0.0.5"
CLIENT = "203.0.113.7"


@asynccontextmanager
async def behind(settings: Settings, peer: str, trusted: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"trusted_proxies": trusted}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
            yield http


Headers = list[tuple[str, str]]
CASES: dict[str, tuple[str, str, Headers, str | None]] = {
    # case: (peer, LEDGER_TRUSTED_PROXIES, headers, recorded address)
    "no proxies trusted: the header is ignored": (PROXY, "", [("x-forwarded-for", CLIENT)], PROXY),
    "untrusted peer spoofing": (
        "198.51.100.9",
        "10.0.0.0/8",
        [("x-forwarded-for", CLIENT)],
        "198.51.100.9",
    ),
    "trusted proxy": (PROXY, "10.0.0.0/8", [("x-forwarded-for", CLIENT)], CLIENT),
    "trusted proxy, no header": (PROXY, "10.0.0.0/8", [], PROXY),
    "a forged entry left of the real one": (
        PROXY,
        "10.0.0.0/8",
        [("x-forwarded-for", f"6.6.6.6, {CLIENT}")],
        CLIENT,
    ),
    "two trusted hops": (PROXY, "10.0.0.0/8", [("x-forwarded-for", f"{CLIENT}, 10.1.2.3")], CLIENT),
    "two headers": (
        PROXY,
        "10.0.0.0/8",
        [("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", CLIENT)],
        CLIENT,
    ),
    "IPv6, normalised": (
        PROXY,
        "10.0.0.0/8",
        [("x-forwarded-for", "2001:DB8:0::1")],
        "2001:db8::1",
    ),
    "every hop a proxy": (PROXY, "10.0.0.0/8", [("x-forwarded-for", "10.9.9.9")], "10.9.9.9"),
    "garbage": (PROXY, "10.0.0.0/8", [("x-forwarded-for", "not-an-address")], None),
    "garbage right of a real one": (
        PROXY,
        "10.0.0.0/8",
        [("x-forwarded-for", f"{CLIENT}, <script>")],
        None,
    ),
    "with a port": (PROXY, "10.0.0.0/8", [("x-forwarded-for", f"{CLIENT}:443")], None),
    "an IPv6 zone": (PROXY, "10.0.0.0/8", [("x-forwarded-for", "fe80::1%eth0")], None),
    "empty entry": (PROXY, "10.0.0.0/8", [("x-forwarded-for", f"{CLIENT},")], None),
    "a peer that is no address": ("testclient", "10.0.0.0/8", [], None),
}


async def test_the_recorded_address_for_each_header(
    settings: Settings, token: TokenFactory, store: EventStore, subtests: pytest.Subtests
) -> None:
    for n, (case, (peer, trusted, headers, recorded)) in enumerate(CASES.items()):
        with subtests.test(case):
            site = f"site-{n}"
            async with behind(settings, peer, trusted) as http:
                answer = await http.post(
                    "/v1/sites",
                    json=site_body(site),
                    headers=[*bearer(token(sites=(site,))).items(), *headers],
                )
            assert answer.status_code == 201, answer.text
            (event,) = await store.read_stream(f"site-{site}")
            assert event.metadata["client_ip"] == recorded


async def raw_request(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    """One request straight through ASGI: header bytes no HTTP client library would send."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/sites",
        "raw_path": b"/v1/sites",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"ledger.test"), (b"content-type", b"application/json"), *headers],
        "client": (PROXY, 40000),
        "server": ("ledger.test", 80),
    }
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status: int = sent[0]["status"]
    return status


async def test_nul_and_control_bytes_in_the_header_record_nothing(
    settings: Settings, token: TokenFactory, store: EventStore, subtests: pytest.Subtests
) -> None:
    app = create_app(settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"}))
    # NUL and line breaks are refused at the edge (a 422, nothing appended), in any header;
    # Latin-1 bytes are valid header bytes, and not an address.
    values: dict[str, tuple[Callable[[], bytes], int]] = {
        "NUL after the address": (lambda: CLIENT.encode() + b"\x00", 422),
        "NUL alone": (lambda: b"\x00", 422),
        "a newline": (lambda: CLIENT.encode() + b"\n1.1.1.1", 422),
        "latin-1 bytes": (lambda: b"\xff\xfe", 201),
    }
    async with app.router.lifespan_context(app):
        for n, (case, (value, expected)) in enumerate(values.items()):
            with subtests.test(case):
                site = f"raw-{n}"
                authorization = f"Bearer {token(sites=(site,))}".encode()
                status = await raw_request(
                    app,
                    [(b"authorization", authorization), (b"x-forwarded-for", value())],
                    json.dumps(site_body(site)).encode(),
                )
                assert status == expected
                recorded = await store.read_stream(f"site-{site}")
                assert [e.metadata["client_ip"] for e in recorded] == [None] * (expected == 201)
