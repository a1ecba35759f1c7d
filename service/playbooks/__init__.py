"""Playbooks: register, export signed, import into another client site, localise, promote."""
