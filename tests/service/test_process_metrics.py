"""/metrics carries the process's own metrics next to the ledger's."""

from __future__ import annotations

import httpx


async def test_metrics_include_process_metrics(client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics")).text
    for name in (
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "python_info",
    ):
        assert f"\n{name}" in f"\n{text}", name
