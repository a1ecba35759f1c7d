"""The commit-safe horizon: below it, every transaction that writes events has ended.

A reader of the whole log reads `transaction_id < horizon` in (transaction_id, position) order,
so an event whose transaction commits late is read later, never skipped. The horizon of
`pg_snapshot_xmin` would be correct too, but it is cluster-wide: one transaction anywhere on the
server (another database, an idle session, a dump) would hold back every reader for as long as
it lasts. This one waits only for event writers.

Why it is safe:
- every event writer holds ROW EXCLUSIVE on `events` before it is given a transaction id (the
  INSERT takes the lock when it is parsed or its cached plan is locked, and the id when it
  writes its first row; a transaction that writes anything before its events must first run
  WRITER_LOCK), and keeps the lock until it ends;
- the horizon is the least transaction id among the lock's holders in this database, or the
  snapshot's xmax when none holds an id yet. A writer that holds the lock without an id, or that
  starts later, is given an id at or above that xmax (ids only grow), so above the horizon;
- a writer whose lock is gone has ended (Postgres releases locks after a commit becomes
  visible), so a reader's LATER statement, with its later snapshot, sees all it wrote. Hence the
  horizon is computed in a statement before the one that reads, never in the same one.

pg_locks gives 32-bit transaction ids; they are widened to xid8 against the snapshot's xmax, as
every id in flight lies within 2^31 of it.
"""

from __future__ import annotations

import asyncpg

WRITER_LOCK = "LOCK TABLE events IN ROW EXCLUSIVE MODE"
"""For an append transaction that writes anything before its events: its first statement."""

# One scan of pg_locks (each mention of the view is a separate scan of the lock table): per
# transaction, whether it holds the writer lock here and the id it holds, if any.
HORIZON = """
WITH snapshot AS (
    SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
), holders AS (
    SELECT bool_or(locktype = 'relation' AND relation = 'events'::regclass
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND mode = 'RowExclusiveLock') AS writes_events,
           min(transactionid::text::bigint) FILTER (
               WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock') AS xid32
    FROM pg_locks
    WHERE granted AND locktype IN ('relation', 'transactionid')
    GROUP BY virtualtransaction
)
SELECT least(
    s.xmax,
    min(s.xmax + (h.xid32 - s.xmax % 4294967296 + 6442450944) % 4294967296 - 2147483648)
) AS horizon
FROM snapshot s LEFT JOIN holders h ON h.writes_events AND h.xid32 IS NOT NULL
GROUP BY s.xmax
"""


async def current(db: asyncpg.Connection | asyncpg.Pool) -> int:
    """The horizon now: read the log below it in a later statement."""
    return int(await db.fetchval(HORIZON))
