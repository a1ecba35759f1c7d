"""Plugin updates pause automation, and the pause is not the recorder's to switch off (issue 14,
item 5); a site gains its rollback or support path later (item 9). Given events, when a
command, then events or an error. No database."""

from __future__ import annotations

import pytest

from events.domain.kill_switches import (
    KILL_SWITCHES,
    KillSwitchEngaged,
    KillSwitchReleased,
    decide_release,
)
from events.domain.promotion import missing_for_promotion
from events.domain.sites import (
    SITES,
    RecordSiteChange,
    RegisterSite,
    SiteFacts,
    SiteRecoveryPathsRecorded,
    decide_record_change,
    decide_record_recovery_paths,
    decide_register,
)
from events.errors import Forbidden, InvalidCommand, StateConflict
from tests.events.workflow_fixtures import SITE, fold, registered
from tests.support import SITE_FACTS

REGISTERED = decide_register(
    SITES.initial, RegisterSite(site_id=SITE, agency_id=None, facts=SiteFacts(**SITE_FACTS))
)
SITE_STATE = SITES.fold(REGISTERED)


@pytest.mark.parametrize("kind", ["plugin", "hosting", "provider"])
def test_plugin_hosting_and_provider_changes_pause_automation(kind: str) -> None:
    cmd = RecordSiteChange.model_validate({"kind": kind, "summary": "SophMate 2.5 update"})
    (event,) = decide_record_change(SITE_STATE, cmd)
    assert event.pauses_automation is True  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["plugin", "hosting", "provider"])
def test_whoever_records_the_change_may_not_switch_the_pause_off(kind: str) -> None:
    cmd = RecordSiteChange.model_validate(
        {"kind": kind, "summary": "SophMate 2.5 update", "pause_automation": False}
    )
    with pytest.raises(Forbidden) as err:
        decide_record_change(SITE_STATE, cmd)
    assert err.value.missing == ["pause_automation"]


ENGAGED_BY_CHANGE = KILL_SWITCHES.fold(
    [
        KillSwitchEngaged(site_id=SITE, category="*", engaged_by="devon",
                          reason="plugin change: 2.5", by_site_change=True)
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    ("actor", "roles", "missing"),
    [
        ("sam", ["support_lead"], ["released_by.role"]),
        ("Devon", ["operations_lead"], ["released_by.second_person"]),
        ("devon", ["developer"], ["released_by.role", "released_by.second_person"]),
    ],
)
def test_only_another_lead_releases_the_pause_a_change_engaged(
    actor: str, roles: list[str], missing: list[str]
) -> None:
    with pytest.raises(Forbidden) as err:
        decide_release(ENGAGED_BY_CHANGE, SITE, "*", actor, roles, "diagnostics clean")
    assert err.value.missing == missing


def test_the_lead_releases_it_with_a_reason_on_the_record() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_release(ENGAGED_BY_CHANGE, SITE, "*", "olga", ["operations_lead"], " ")
    assert err.value.missing == ["reason"]
    (released,) = decide_release(
        ENGAGED_BY_CHANGE, SITE, "*", "olga", ["operations_lead"], "diagnostics clean after 2.5"
    )
    assert isinstance(released, KillSwitchReleased)
    assert (released.released_by, released.reason) == ("olga", "diagnostics clean after 2.5")


def test_a_site_registered_without_paths_gains_one_later_and_can_promote() -> None:
    workflow = fold([registered()])
    assert "site.rollback_path" in missing_for_promotion(workflow, "priya", SITE_STATE.facts)
    (event,) = decide_record_recovery_paths(SITE_STATE, "restore the nightly backup", None, "ana")
    assert isinstance(event, SiteRecoveryPathsRecorded)
    assert (event.rollback_path, event.support_path, event.recorded_by) == (
        "restore the nightly backup",
        None,
        "ana",
    )
    site = SITES.fold([*REGISTERED, event])
    assert site.facts.rollback_path == "restore the nightly backup"
    assert site.facts.setup_owner == SITE_FACTS["setup_owner"], "the other facts stay"
    assert "site.rollback_path" not in missing_for_promotion(workflow, "priya", site.facts)


def test_a_path_record_needs_a_path_and_keeps_the_other() -> None:
    with pytest.raises(InvalidCommand) as err:
        decide_record_recovery_paths(SITE_STATE, "  ", None, "ana")
    assert err.value.missing == ["rollback_path", "support_path"]
    first = decide_record_recovery_paths(SITE_STATE, "restore the backup", None, "ana")
    site = SITES.fold([*REGISTERED, *first])
    (second,) = decide_record_recovery_paths(site, " ", "support@northwind.example", "ana")
    later = SITES.fold([*REGISTERED, *first, second])
    assert (later.facts.rollback_path, later.facts.support_path) == (
        "restore the backup",
        "support@northwind.example",
    )
    with pytest.raises(StateConflict):
        decide_record_recovery_paths(later, "restore the backup", None, "ana")
