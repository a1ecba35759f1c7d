"""A generated history of every kind of event, written straight into the log for speed."""

from __future__ import annotations

import asyncpg

from events.catalogue import CATALOGUE
from projections.site_activity import CLOSES, OPENS

TYPES = sorted({*(cls.type_name() for cls in CATALOGUE), *OPENS, *CLOSES, "ThingHappened"})


async def write_history(conn: asyncpg.Connection, events: int, *, start: int = 0) -> None:
    """`events` events over 40 sites of 4 agencies and 60 days, in transactions of 1,000.

    Hashes are zeros: projections read the log, they do not verify it.
    """
    types = TYPES
    for offset in range(start, start + events, 1000):
        count = min(1000, start + events - offset)
        await conn.execute(
            """INSERT INTO events (event_id, stream_id, stream_type, stream_version, site_id,
                   agency_id, type, schema_version, data, metadata, occurred_at, recorded_at,
                   prev_hash, hash)
               SELECT gen_random_uuid(), 'gen-' || n, 'gen', 1, 'site-' || (n % 40),
                   CASE WHEN n % 40 < 36 THEN 'agency-' || (n % 4) END,
                   ($3::text[])[1 + (n * 7) % array_length($3::text[], 1)], 1,
                   jsonb_build_object('n', n), '{}'::jsonb,
                   now(), now() - make_interval(days => n % 60),
                   decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex')
               FROM generate_series($1::int, $2::int) AS n""",
            offset,
            offset + count - 1,
            types,
        )
