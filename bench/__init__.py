"""`make bench`: the event store's append rate beside pgbench's raw insert rate, one server.

Speed is reported as a ratio against the raw Postgres ceiling measured moments before, so the
figure means the same on a laptop and on a server; nothing here passes or fails.
"""
