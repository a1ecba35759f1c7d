"""Operator rollout: role SOPs, acknowledgments, access grants, readiness and review."""
