"""The role matrix says what the rules do (issue 14, item 10): the row-level rules the deciders
state are the rules they enforce. The matrix admits every working role to pause-workflow; the
decider admits only the owner and the roles its footnote names. No database."""

from __future__ import annotations

import pytest

from events.domain import load_all
from events.domain.kill_switches import CHANGE_RELEASERS
from events.domain.row_rules import ROW_RULES, either
from events.domain.workflows import PAUSING_ROLES, decide_pause
from events.errors import Forbidden
from tests.events.workflow_fixtures import fold, registered

load_all()


def test_the_pause_rule_names_the_roles_the_decider_admits() -> None:
    assert any(either(PAUSING_ROLES) in rule for rule in ROW_RULES["pause-workflow"])
    assert any(either(CHANGE_RELEASERS) in rule for rule in ROW_RULES["release-kill-switch"])


@pytest.mark.parametrize("role", ["editor", "support_agent", "developer", "marketer"])
def test_a_working_role_that_is_not_the_owner_may_not_pause(role: str) -> None:
    with pytest.raises(Forbidden) as err:
        decide_pause(fold([registered()]), "erin", [role], "odd output")
    assert err.value.missing == ["paused_by.owner_or_lead"]


@pytest.mark.parametrize("role", sorted(PAUSING_ROLES))
def test_the_roles_the_footnote_names_may_pause(role: str) -> None:
    assert decide_pause(fold([registered()]), "erin", [role], "odd output")


def test_every_stated_rule_is_a_sentence_of_its_own() -> None:
    for operation, rules in ROW_RULES.items():
        assert rules, operation
        assert all(rule and not rule.endswith(".") for rule in rules), operation
