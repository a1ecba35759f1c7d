"""SOPs, acknowledgments and grants over HTTP: each refusal names what is missing and appends
nothing; a revision suspends a grant until the new version is acknowledged."""

from __future__ import annotations

from events.domain.rollout_events import READINESS_CHECKS
from service.rollout.schemas import CONTENT_EXAMPLE
from tests.service.redaction_corpus import OPENAI
from tests.service.rollout.conftest import Rollout


async def test_publishing_an_sop_without_its_parts_is_refused(rollout: Rollout) -> None:
    before = await rollout.events()
    content = {**CONTENT_EXAMPLE, "when_to_stop": "", "refusal_rules": []}
    refused = await rollout.post(
        "/sops", {"role": "editor", "topic": "product_copy", "content": content}
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["missing"] == ["content.when_to_stop", "content.refusal_rules"]
    assert await rollout.events() == before


async def test_a_revision_needs_a_change_note_and_makes_version_two(rollout: Rollout) -> None:
    assert (await rollout.publish()).status_code == 201
    body = {
        "role": "editor",
        "topic": "product_copy",
        "content": {**CONTENT_EXAMPLE, "when_to_stop": "x"},
    }
    before = await rollout.events()
    refused = await rollout.post("/sops", body)
    assert refused.status_code == 422
    assert refused.json()["missing"] == ["change_note"]
    assert await rollout.events() == before
    assert (await rollout.publish(when_to_stop="Stop at any price.")).status_code == 201
    coverage = (await rollout.get("/sops")).json()["coverage"]
    cell = next(c for c in coverage if (c["role"], c["topic"]) == ("editor", "product_copy"))
    assert cell == {
        "role": "editor",
        "topic": "product_copy",
        "status": "current",
        "version": 2,
        "published_by": "dana",
    }
    assert sum(c["status"] == "missing" for c in coverage) == len(coverage) - 1


async def test_sop_text_is_masked_before_it_is_stored(rollout: Rollout) -> None:
    published = await rollout.publish(when_to_ask=f"never paste {OPENAI} into a prompt")
    assert published.status_code == 201, published.text
    assert published.json()["masked"] == [{"pointer": "/content/when_to_ask", "kind": "openai_key"}]
    stored = await rollout.pool.fetchval(
        "SELECT data::text FROM events WHERE type = 'SopPublished'"
    )
    assert OPENAI not in stored


async def test_grant_is_refused_until_acknowledged_and_ready(rollout: Rollout) -> None:
    before = await rollout.events()
    refused = await rollout.post("/grants", {"subject": "erin", "role": "editor"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["missing"] == [
        "sops.editor",
        *(f"readiness.{c}" for c in READINESS_CHECKS),
    ]
    assert await rollout.events() == before
    assert (await rollout.publish()).status_code == 201
    await rollout.make_ready()
    before = await rollout.events()
    refused = await rollout.post("/grants", {"subject": "erin", "role": "editor"})
    assert refused.json()["missing"] == ["acknowledgments.editor.product_copy.v1"]
    assert await rollout.events() == before
    assert (await rollout.acknowledge()).status_code == 201
    granted = await rollout.post("/grants", {"subject": "erin", "role": "editor"})
    assert granted.status_code == 201, granted.text
    again = await rollout.post("/grants", {"subject": "erin", "role": "editor"})
    assert (again.status_code, again.json()["event_ids"]) == (200, [])


async def test_acknowledging_needs_a_held_role_and_the_current_version(rollout: Rollout) -> None:
    assert (await rollout.publish()).status_code == 201
    assert (await rollout.publish(when_to_stop="Stop at any price.")).status_code == 201
    before = await rollout.events()
    old = await rollout.acknowledge(version=1)
    assert old.status_code == 409, old.text
    body = {"role": "editor", "topic": "product_copy", "version": 2}
    not_held = await rollout.post("/acknowledgments", body, "mark", "marketer")
    assert not_held.status_code == 422
    assert not_held.json()["missing"] == ["role"]
    unknown = await rollout.acknowledge(topic="support_drafts")
    assert unknown.status_code == 404
    assert await rollout.events() == before


async def test_a_revision_suspends_the_grant_until_reacknowledged(rollout: Rollout) -> None:
    await rollout.onboard_editor()
    revised = await rollout.publish(when_to_stop="Stop at any price change.")
    assert revised.status_code == 201
    (erin,) = (await rollout.get("/operators")).json()["operators"]
    assert erin["grants"] == [
        {"role": "editor", "status": "suspended", "granted_by": "dana",
         "missing": ["acknowledgments.editor.product_copy.v2"]}
    ]  # fmt: skip
    assert erin["acknowledgments"][0]["current"] is False
    assert (await rollout.acknowledge(version=2)).status_code == 201
    (erin,) = (await rollout.get("/operators")).json()["operators"]
    assert erin["grants"][0]["status"] == "active"
    types = await rollout.pool.fetch(
        "SELECT type FROM events WHERE stream_id = 'rollout-acme-shop' ORDER BY stream_version"
    )
    assert [t["type"] for t in types][-3:] == [
        "GrantSuspended",
        "SopAcknowledged",
        "GrantReinstated",
    ]


async def test_revoking_needs_a_grant_and_a_reason(rollout: Rollout) -> None:
    before = await rollout.events()
    none = await rollout.post(
        "/grants/revoke", {"subject": "erin", "role": "editor", "reason": "left"}
    )
    assert none.status_code == 409
    assert await rollout.events() == before
    await rollout.onboard_editor()
    before = await rollout.events()
    blank = await rollout.post(
        "/grants/revoke", {"subject": "erin", "role": "editor", "reason": " "}
    )
    assert (blank.status_code, blank.json()["missing"]) == (422, ["reason"])
    assert await rollout.events() == before
    revoked = await rollout.post(
        "/grants/revoke", {"subject": "erin", "role": "editor", "reason": "left"}
    )
    assert revoked.status_code == 200, revoked.text
    (erin,) = (await rollout.get("/operators")).json()["operators"]
    assert erin["grants"][0]["status"] == "revoked"
