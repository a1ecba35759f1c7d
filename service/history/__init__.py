"""History for auditors and mirrors: the event log, filtered, paged and exported."""
