"""The integers the database can hold, defined once: every integer a request carries into a
query or a column is bounded by one of these, so one beyond the column's range is a 422 like any
other malformed value, never a database error (a 500)."""

from __future__ import annotations

BIGINT_MAX = 2**63 - 1
"""Log positions, tree sizes, leaf indices: Postgres bigint."""
INT_MAX = 2**31 - 1
"""Stream versions: Postgres integer."""
