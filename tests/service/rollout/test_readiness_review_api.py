"""Readiness checks with their evidence, staleness after a hosting change, first-week review
findings with citations and escalation, the runbook, and tenancy."""

from __future__ import annotations

from events.domain.rollout_events import READINESS_CHECKS
from tests.service.rollout.conftest import AGENCY, SITE, Rollout
from tests.support import bearer

FINDING = {
    "subject": "erin",
    "role": "editor",
    "topic": "product_copy",
    "kind": "skipped_context",
    "source": "prompts",
    "note": "asked for copy without the product page",
}


async def test_a_check_takes_evidence_not_an_admin_page_load(rollout: Rollout) -> None:
    before = await rollout.events()
    body = {"method": "admin_page_load", "note": "the admin page loaded fine"}
    refused = await rollout.post("/readiness/backups", body)
    assert (refused.status_code, refused.json()["missing"]) == (422, ["method"])
    blank = await rollout.post("/readiness/backups", {"method": "restore_test", "note": " "})
    assert (blank.status_code, blank.json()["missing"]) == (422, ["note"])
    assert await rollout.events() == before
    body = {"method": "restore_test", "note": "restored last night's backup to staging"}
    assert (
        await rollout.post("/readiness/backups", body, "olga", "operations_lead")
    ).status_code == 200
    view = (await rollout.get("/readiness")).json()
    backups = next(c for c in view["checks"] if c["check"] == "backups")
    assert backups["status"] == "verified"
    assert (backups["verified_by"], backups["method"]) == ("olga", "restore_test")
    assert backups["verified_at"] is not None
    assert view["ready"] is False
    assert "readiness.backups" not in view["missing"]


async def test_a_hosting_change_makes_readiness_stale_until_verified(rollout: Rollout) -> None:
    await rollout.make_ready()
    assert (await rollout.get("/readiness")).json()["ready"] is True
    change = {"kind": "hosting", "summary": "moved to a new host"}
    moved = await rollout.client.post(
        f"/v1/sites/{SITE}/changes", json=change, headers=rollout.as_("dana")
    )
    assert moved.status_code == 200, moved.text
    rollout.position = moved.json()["position"]
    view = (await rollout.get("/readiness")).json()
    assert (view["ready"], view["review_due"]) == (False, True)
    assert view["missing"] == [f"readiness.{c}.stale" for c in READINESS_CHECKS]
    assert view["last_hosting_change"] == "moved to a new host"
    assert (await rollout.publish()).status_code == 201
    assert (await rollout.acknowledge()).status_code == 201
    before = await rollout.events()
    refused = await rollout.post("/grants", {"subject": "erin", "role": "editor"})
    assert refused.status_code == 409
    assert "readiness.outbound_https.stale" in refused.json()["missing"]
    assert await rollout.events() == before
    await rollout.make_ready()
    assert (await rollout.get("/readiness")).json()["ready"] is True


async def test_findings_cite_site_events_mark_the_sop_and_escalate(rollout: Rollout) -> None:
    await rollout.onboard_editor()
    own = str(await rollout.pool.fetchval("SELECT event_id FROM events ORDER BY position LIMIT 1"))
    before = await rollout.events()
    unknown = "00000000-0000-4000-8000-000000000000"
    refused = await rollout.post(
        "/findings", {**FINDING, "finding_id": "f-0", "cited_event_ids": [own, unknown]}
    )
    assert (refused.status_code, refused.json()["missing"]) == (422, ["cited_event_ids[1]"])
    assert await rollout.events() == before
    for n in (1, 2):
        body = {**FINDING, "finding_id": f"f-{n}", "cited_event_ids": [own]}
        assert (await rollout.post("/findings", body, "sam", "support_lead")).status_code == 201
    coverage = (await rollout.get("/sops")).json()["coverage"]
    cell = next(c for c in coverage if (c["role"], c["topic"]) == ("editor", "product_copy"))
    assert cell["status"] == "needs_update"
    third = await rollout.post("/findings", {**FINDING, "finding_id": "f-3"}, "sam", "support_lead")
    assert len(third.json()["event_ids"]) == 2
    escalation = await rollout.pool.fetchval(
        "SELECT data::text FROM events WHERE type = 'RepeatedFindingsEscalated'"
    )
    assert '"sop_owner": "dana"' in escalation
    opened = (await rollout.get("/findings")).json()["items"]
    assert [f["finding_id"] for f in opened] == ["f-1", "f-2", "f-3"]
    assert opened[0]["cited_event_ids"] == [own]
    first = (await rollout.get("/findings?limit=2")).json()
    assert [f["finding_id"] for f in first["items"]] == ["f-1", "f-2"]
    rest = (await rollout.get(f"/findings?limit=2&cursor={first['next_cursor']}")).json()
    assert ([f["finding_id"] for f in rest["items"]], rest["next_cursor"]) == (["f-3"], None)
    assert (await rollout.publish(when_to_ask="Give the product page first.")).status_code == 201
    assert (await rollout.get("/findings")).json()["items"] == []


async def test_the_runbook_is_generated_from_the_log(rollout: Rollout) -> None:
    await rollout.onboard_editor()
    book = (await rollout.get("/runbook")).json()
    assert book["readiness"]["ready"] is True
    assert book["sops"][0]["acknowledged_by"] == ["erin"]
    assert book["operators"][0]["grants"][0]["status"] == "active"
    markdown = await rollout.client.get(
        f"/v1/sites/{SITE}/rollout/runbook",
        headers={**rollout.as_("dana"), "Accept": "text/markdown"},
    )
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "| editor | product_copy | 1 | dana |" in markdown.text
    assert "| erin | editor | active | dana |" in markdown.text


async def test_an_agency_lead_sees_its_agency_and_no_other(rollout: Rollout) -> None:
    await rollout.make_ready()
    lead = bearer(rollout.token(sub="lena", roles=("agency_lead",), sites=(), agency=AGENCY))
    path = f"/v1/sites/{SITE}/rollout/readiness?min_position={rollout.position}"
    assert (await rollout.client.get(path, headers=lead)).status_code == 200
    other = bearer(rollout.token(sub="mal", roles=("agency_lead",), sites=(), agency="other"))
    hidden = await rollout.client.get(path, headers=other)
    assert hidden.status_code == 404
    assert set(hidden.json()) == {"type", "title", "status", "detail"}
