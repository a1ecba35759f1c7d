"""Incidents: the post-incident review, its gates, and the redacted support handoff."""
