"""Issue 13: keys speak only for their tenant, secrets are sealed at rest, no 5xx on any token."""
