"""A tour of every command over HTTP with the generated corpus in its free text.

`pack` fills a field with the next samples of the corpus in turn (one family after another), as
many as fit the field's limit; the tour records every answer and which samples it sent.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

import asyncpg
import httpx

from service.redaction import redact_text
from tests.service.conftest import Api
from tests.service.redaction.families import CORPUS, PER_FAMILY, Sample, visible


def interleaved() -> list[Sample]:
    """One sample of each family, then the next of each: consecutive samples differ in family."""
    by_family: dict[str, list[Sample]] = {}
    for sample in CORPUS:
        by_family.setdefault(sample.family, []).append(sample)
    return [samples[i] for i in range(PER_FAMILY) for samples in by_family.values()]


class Tour:
    def __init__(self, api: Api, pool: asyncpg.Pool) -> None:
        self.api, self.pool = api, pool
        self.queue = deque(interleaved())
        self.sent: set[Sample] = set()
        self.answers: list[str] = []
        self.commands: dict[str, set[str]] = {}
        """operationId -> the families it was sent."""
        self.position = 0

    def pack(self, limit: int) -> str:
        """The next samples, one a line, within `limit` characters before and after masking."""
        texts: list[str] = []
        size = 0
        while True:
            sample = self.queue[0]
            masked, _ = redact_text(sample.text)
            need = max(len(sample.text), len(masked)) + 1
            if size + need > limit * 0.9:
                assert texts, f"a sample is longer than {limit}"
                return "\n".join(texts)
            self.queue.rotate(-1)
            self.sent.add(sample)
            texts.append(sample.text)
            size += need

    def families_in(self, body: Any) -> set[str]:
        text = str(body)
        return {s.family for s in self.sent if s.text in text or repr(s.text)[1:-1] in text}

    async def command(
        self,
        operation: str,
        path: str,
        body: Any,
        who: str = "olga",
        *roles: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        method: str = "POST",
    ) -> httpx.Response:
        """Call a command and check its status; a refused one must have appended nothing."""
        before = await self.pool.fetchval("SELECT count(*) FROM events")
        answer = await self.api.client.request(
            method, path, json=body, headers=headers or self.api.as_(who, *roles)
        )
        assert answer.status_code == status, (operation, answer.text)
        self.answers.append(answer.text)
        self.commands.setdefault(operation, set()).update(self.families_in(body))
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["missing"], operation
            assert await self.pool.fetchval("SELECT count(*) FROM events") == before, operation
        else:
            self.position = max(self.position, int(answer.json().get("position", 0)))
        return answer

    async def read(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        answer = await self.api.client.get(path, headers=headers or self.api.as_("olga"))
        assert answer.status_code == 200, (path, answer.text)
        self.answers.append(answer.text)
        return answer


async def every_table(owner_url: str) -> str:
    """Every row of every table of the database, as text (as the owner, who may read them all)."""
    conn = await asyncpg.connect(owner_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        assert len(tables) > 5
        texts = []
        for table in tables:
            name = f'"{table["table_schema"]}"."{table["table_name"]}"'
            rows = await conn.fetch(f"SELECT t::text AS row FROM {name} t")
            texts.extend(row["row"] for row in rows)
        return "\n".join(texts)
    finally:
        await conn.close()


def leaks(samples: set[Sample], **places: str) -> list[tuple[str, str]]:
    """(family, place) for each sample whose secret is still readable somewhere. JSON escapes
    are undone first, so a secret stored as "\\u0041..." or with escaped quotes still counts."""
    readable = {name: visible(_unescaped(text)) for name, text in places.items()}
    return sorted(
        {(s.family, name) for s in samples for name, text in readable.items() if s.raw in text}
    )


def _unescaped(text: str) -> str:
    decoded = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return decoded + "\n" + decoded.replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n")


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
