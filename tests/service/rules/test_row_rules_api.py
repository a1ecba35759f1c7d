"""Over HTTP: the role matrix says what the rules do (issue 14, item 10). The matrix admits every
working role to pause-workflow; the decider admits only the owner and the roles its footnote
names, and the README prints that footnote from the deciders' own statement of the rule."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from events.domain import load_all
from events.domain.row_rules import ROW_RULES
from service.auth.roles import MATRIX, matrix_markdown
from tests.service.conftest import WF, Api
from tests.service.rules.refusals import refused

README = Path(__file__).resolve().parents[3] / "README.md"


async def test_a_working_role_that_is_not_the_owner_is_refused_the_pause(
    api: Api, pool: asyncpg.Pool
) -> None:
    for role in ("editor", "support_agent", "developer"):
        pause = api.post(WF + "/pause", {"reason": "looks odd"}, "erin", role)
        await refused(pool, pause, 403, ["paused_by.owner_or_lead"])
    # The owner (dana@acme.example, as a developer) may: the footnote says so.
    paused = await api.post(WF + "/pause", {"reason": "looks odd"}, "Dana@Acme.example", "editor")
    assert paused.status_code == 200, paused.text


def test_the_readme_matrix_carries_the_row_rules_as_footnotes() -> None:
    load_all()
    assert set(ROW_RULES) <= set(MATRIX), "a row rule for an operation the matrix does not know"
    table = matrix_markdown()
    assert table in README.read_text()
    for number, operation in enumerate((op for op in MATRIX if op in ROW_RULES), start=1):
        assert f"| `{operation}` [^{number}] |" in table
        assert f"[^{number}]: `{operation}`: " + "; ".join(ROW_RULES[operation]) in table
