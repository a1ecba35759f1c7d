"""Blank is missing (issue 14, item 3): one rule for required text across every command, and URL
fields are URLs. Given events, when a command, then the refusal names the fields. No database."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from events.domain.incident_review import (
    AddPreventionAction,
    decide_add_prevention_action,
    decide_record_detection_gaps,
    decide_record_safeguards,
)
from events.domain.incidents import INCIDENTS, decide_close
from events.domain.kill_switches import KillSwitches, decide_engage
from events.domain.playbooks import Playbook, decide_register
from events.domain.promotion import missing_for_promotion
from events.domain.required_text import invalid_urls, is_url, missing_values
from events.domain.runs import RunResult, decide_record_result, decide_reject, decide_review
from events.domain.sites import (
    RecordSiteChange,
    RegisterSite,
    Site,
    SiteFacts,
    decide_record_change,
)
from events.domain.sites import decide_register as register_site
from events.domain.workflows import RegisterWorkflow, Workflow, decide_pause
from events.domain.workflows import decide_register as register_workflow
from events.errors import InvalidCommand
from tests.events.playbook_fixtures import register_cmd
from tests.events.test_incident_deciders import opened
from tests.events.workflow_fixtures import (
    NOW,
    SITE,
    WF,
    approved,
    definition,
    fold,
    registered,
    requested,
    result,
    states,
)
from tests.support import SITE_FACTS

BLANKS = ["", " ", "\t\n", "\u00a0\u2003"]
"""Empty, spaces, tabs and newlines, a no-break and an em space: each says nothing."""


@pytest.mark.parametrize("blank", BLANKS)
def test_a_workflow_definition_with_blank_text_names_each_field(blank: str) -> None:
    blanked = {name: blank for name in ("owner", "trigger", "notification_path", "pause_rule")}
    cmd = RegisterWorkflow(
        workflow_id=WF, site_id=SITE, definition=definition(**blanked), actor="devon"
    )
    with pytest.raises(InvalidCommand) as err:
        register_workflow(Workflow(), cmd)
    assert err.value.missing == ["owner", "trigger", "notification_path", "pause_rule"]


@pytest.mark.parametrize("blank", BLANKS)
def test_site_facts_with_blank_text_are_missing(blank: str) -> None:
    facts = SiteFacts(**{**SITE_FACTS, "setup_owner": blank, "active_theme": blank})
    with pytest.raises(InvalidCommand) as err:
        register_site(Site(), RegisterSite(site_id=SITE, agency_id=None, facts=facts))
    assert err.value.missing == ["setup_owner", "active_theme"]


@pytest.mark.parametrize(
    "url",
    ["shop.acme.example", "ftp://shop.acme.example", "https://", "javascript:alert(1)",
     "https://shop acme.example", "http://:80/", "https://shop.acme.example:99999"],
)  # fmt: skip
def test_site_urls_must_be_http_urls_with_a_host(url: str) -> None:
    facts = SiteFacts(**{**SITE_FACTS, "staging_url": url})
    with pytest.raises(InvalidCommand) as err:
        register_site(Site(), RegisterSite(site_id=SITE, agency_id=None, facts=facts))
    assert err.value.missing == ["staging_url"]


def test_an_http_url_with_a_host_is_a_url() -> None:
    assert is_url("https://shop.acme.example/path?q=1")
    assert is_url("http://127.0.0.1:8080")
    assert invalid_urls({"a": None, "b": " ", "c": "https://x.example"}) == []


def test_a_blank_rollback_path_is_no_rollback_path() -> None:
    workflow = fold([registered()])
    for facts in (SiteFacts(rollback_path="   "), SiteFacts(support_path="\n")):
        assert "site.rollback_path" in missing_for_promotion(workflow, "priya", facts)


@pytest.mark.parametrize("blank", BLANKS)
def test_reasons_and_summaries_cannot_be_blank(blank: str) -> None:
    given = [registered(), requested("r1"), approved("r1"), approved("r1", "omar"), result()]
    change = RecordSiteChange(kind="other", summary=blank)
    checks = [
        lambda: decide_pause(fold([registered()]), "dana", [], blank),
        lambda: decide_reject(*states([registered(), requested("r1")]), "olga", blank),
        lambda: decide_review(*states(given), "olga", blank),
        lambda: decide_engage(KillSwitches(), SITE, "content", "sam", blank),
        lambda: decide_record_change(Site(site_id=SITE), change),
        lambda: decide_close(INCIDENTS.fold([opened()]), "sam", blank),
    ]  # fmt: skip
    for check in checks:
        with pytest.raises(InvalidCommand) as err:
            check()
        assert err.value.missing in (["reason"], ["summary"])


def test_a_failed_run_with_blank_diagnostics_has_none() -> None:
    given = [registered(), requested("r1"), approved("r1"), approved("r1", "omar")]
    failed = RunResult(run_id="r1", outcome="failed", affected_records=0, cost=0.1,
                       diagnostics="  \n ", notification_sent=True)  # fmt: skip
    with pytest.raises(InvalidCommand) as err:
        decide_record_result(*states(given), failed, "plugin", NOW, KillSwitches())
    assert err.value.missing == ["diagnostics"]


def test_incident_review_entries_cannot_be_blank() -> None:
    incident = INCIDENTS.fold([opened()])
    with pytest.raises(InvalidCommand) as err:
        decide_record_detection_gaps(incident, [" "], [], "sam")
    assert err.value.missing == ["gaps"]
    with pytest.raises(InvalidCommand) as err:
        decide_record_detection_gaps(incident, ["no alert"], ["logs", "\t"], "sam")
    assert err.value.missing == ["missing_evidence[1]"]
    with pytest.raises(InvalidCommand) as err:
        decide_record_safeguards(incident, [" "], [""], "sam")
    assert err.value.missing == ["safeguards"]
    with pytest.raises(InvalidCommand) as err:
        decide_record_safeguards(incident, ["kill switch"], [" "], "sam")
    assert err.value.missing == ["failed[0]"]
    action = AddPreventionAction(action_id="a1", kind="test", description="eval set",
                                 owner="\u2003", due_on=date(2026, 12, 1), actor="sam")  # fmt: skip
    with pytest.raises(InvalidCommand) as err:
        decide_add_prevention_action(incident, action)
    assert err.value.missing == ["owner"]


def test_a_playbook_owner_cannot_be_blank() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_register(Playbook(), register_cmd(owner=" \t"))
    assert err.value.missing == ["owner"]


def test_a_list_names_its_blank_entries() -> None:
    assert missing_values({"gaps": [], "worked": ["a", " "], "n": 0, "flag": False}) == [
        "gaps",
        "worked[1]",
    ]


DOMAIN = Path(__file__).resolve().parents[2] / "events" / "domain"
RULE_MODULES = {"required_text.py", "identity.py", "run_state.py"}
"""The rule itself; identity's own form; run_state cuts diagnostics into a summary line."""


def test_no_decider_tests_text_for_blank_on_its_own() -> None:
    """One rule: a `.strip()` in a decider module is a second, private copy of it."""
    private = [
        f"{path.name}:{node.lineno}"
        for path in sorted(DOMAIN.glob("*.py"))
        if path.name not in RULE_MODULES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in ("strip", "isspace")
    ]
    assert private == []
