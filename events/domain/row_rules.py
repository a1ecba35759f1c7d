"""Row-level rules: what a decider allows within an operation the role matrix admits a role to.

The role matrix (service/auth/roles.py) says which roles may call an operation; many rules then
depend on the row: who owns the workflow, who requested the run, who recorded the change. Each
domain module states its rules here, next to the code that enforces them and from the same
constants, and the README's matrix prints them as footnotes, so the table never promises more
than the deciders allow.
"""

from __future__ import annotations

from collections.abc import Iterable

LEAD_ROLES = frozenset({"administrator", "operations_lead"})
"""The operations owners the SOPs name beside an item's owner (pause, release after a change)."""

ROW_RULES: dict[str, list[str]] = {}
"""operationId -> the rules its decider applies on top of the role matrix, in the order stated."""


def row_rule(operation_id: str, text: str) -> None:
    """State a rule of `operation_id`'s decider (at import time of the module that enforces it)."""
    rules = ROW_RULES.setdefault(operation_id, [])
    if text not in rules:
        rules.append(text)


def either(roles: Iterable[str]) -> str:
    """Roles as a rule's text names them: "`administrator` or `operations_lead`"."""
    names = [f"`{role}`" for role in sorted(roles)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
