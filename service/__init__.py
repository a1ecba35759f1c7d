"""The HTTP edge of the SophMate Ops Ledger."""
