"""The generated corpus through every command's free text, over HTTP: afterwards no table of the
database, no log line and no answer holds any of its secrets. Masked commands succeed and say
where they masked; commands where a secret must never be (playbooks, owners, ids) are refused
with nothing appended."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import pytest

from events.domain.rollout_events import READINESS_CHECKS
from service.app import api_routes
from service.incidents.schemas import OPEN_EXAMPLE
from service.logs import JsonFormatter
from service.playbooks.schemas import CONTENT_EXAMPLE
from service.rollout.schemas import CONTENT_EXAMPLE as SOP_CONTENT
from service.workflows.schemas import DEFINITION_EXAMPLE, REGISTER_EXAMPLE
from tests.conftest import ScratchDatabase, TokenFactory
from tests.service.conftest import WF, Api
from tests.service.redaction.families import CORPUS
from tests.service.redaction.test_gate_coverage import command_routes
from tests.service.redaction.tour import Tour, every_table, leaks
from tests.support import bearer, site_body

RESULT = {"outcome": "succeeded", "affected_records": 3, "cost": 0.1, "notification_sent": False}
INC = "/v1/incidents/" + OPEN_EXAMPLE["incident_id"]
LEAD = ("sam", "support_lead")
OWNER = "dana@acme.example"
FREE_TEXT = ("trigger", "input_scope", "expected_output", "notification_path", "pause_rule")


async def sites_and_keys(tour: Tour, token: TokenFactory) -> None:
    admin = bearer(token(sites=("leaky-shop",)))
    facts = {name: tour.pack(1500) for name in ("rollback_path", "support_path", "active_theme")}
    await tour.command(
        "register-site", "/v1/sites", site_body("leaky-shop", **facts), headers=admin, status=201
    )
    key = await tour.command(
        "register-site-key", "/v1/sites/acme-shop/keys", None, headers=bearer(token()), status=201
    )
    await tour.command(
        "retire-site-key",
        f"/v1/sites/acme-shop/keys/{key.json()['kid']}/retire",
        {"reason": tour.pack(500)},
        headers=bearer(token()),
    )
    change = {"kind": "other", "summary": tour.pack(2000)}
    await tour.command("record-site-change", "/v1/sites/acme-shop/changes", change)
    paths = {"rollback_path": tour.pack(1000), "support_path": tour.pack(1000)}
    await tour.command("record-site-recovery-paths", "/v1/sites/acme-shop/recovery-paths", paths)


async def workflows_and_runs(tour: Tour) -> None:
    leaky = {**REGISTER_EXAMPLE, "workflow_id": "leaky-flow"}
    leaky |= {name: tour.pack(1500) for name in (*FREE_TEXT, "rollback_path")}
    await tour.command(
        "register-workflow", "/v1/workflows", leaky, "devon", "developer", status=201
    )
    revised = {**DEFINITION_EXAMPLE, **{name: tour.pack(1500) for name in FREE_TEXT}}
    await tour.command("revise-workflow", "/v1/workflows/leaky-flow/revisions", revised, "devon")
    runs = WF + "/runs"
    for run_id in ("r1", "r2"):
        body = {"run_id": run_id, "inputs": tour.pack(2000)}
        await tour.command("request-run", runs, body, "erin", "editor", status=201)
    await tour.command("approve-run", f"{runs}/r1/approve", None)
    result = {**RESULT, "diagnostics": tour.pack(10_000)}
    await tour.command("record-run-result", f"{runs}/r1/result", result, "plugin", "editor")
    await tour.command("review-run", f"{runs}/r1/review", {"summary": tour.pack(2000)})
    await tour.command("reject-run", f"{runs}/r2/reject", {"reason": tour.pack(2000)})
    await tour.api.run("r3", RESULT)
    await tour.api.run("r4", RESULT)
    await tour.command("promote-workflow", WF + "/promote", {"reason": tour.pack(2000)})
    await tour.command("pause-workflow", WF + "/pause", {"reason": tour.pack(2000)})
    await tour.command("resume-workflow", WF + "/resume", {"reason": tour.pack(2000)})
    switches = "/v1/sites/acme-shop/kill-switches"
    engage = {"category": "content", "reason": tour.pack(2000)}
    await tour.command("engage-kill-switch", switches, engage, *LEAD)
    release = {"reason": tour.pack(2000)}
    await tour.command("release-kill-switch", f"{switches}/content/release", release)


async def incident_review(tour: Tour) -> None:
    opened = {**OPEN_EXAMPLE, "summary": tour.pack(4000), "reproduction_steps": tour.pack(4000)}
    opened |= {"affected_screen": tour.pack(200), "affected_user": tour.pack(200)}
    answer = await tour.command("open-incident", "/v1/incidents", opened, status=201)
    assert answer.json()["masked"], "where it masked is answered"
    content = {"lines": [s.text for s in CORPUS], "keys": {s.text: "v" for s in CORPUS[:60]}}
    evidence = {"evidence_id": "corpus", "content": content}
    await tour.command("record-evidence", INC + "/evidence", evidence, *LEAD, status=201)
    steps: list[tuple[str, str, dict[str, Any], int]] = [
        ("set-escalation", "/escalation", {"target": "hosting", "reason": tour.pack(4000)}, 200),
        ("record-root-cause", "/root-cause", {"root_cause": tour.pack(4000)}, 200),
        (
            "record-detection-gaps",
            "/detection-gaps",
            {"gaps": [tour.pack(2000), tour.pack(2000)], "missing_evidence": [tour.pack(2000)]},
            200,
        ),
        (
            "record-safeguards",
            "/safeguards",
            {"worked": [tour.pack(2000)], "failed": [tour.pack(2000)]},
            200,
        ),
        (
            "record-regression-check",
            "/regression-checks",
            {"passed": True, "description": tour.pack(4000)},
            200,
        ),
        ("set-restart-criteria", "/restart-criteria", {"criteria": tour.pack(4000)}, 200),
        (
            "record-documentation-change",
            "/documentation-changes",
            {"area": "runbook", "description": tour.pack(4000), "reference": tour.pack(500)},
            200,
        ),
        ("create-support-handoff", "/handoffs", {"handoff_id": "h1"}, 201),
    ]
    for operation, path, body, status in steps:
        await tour.command(operation, INC + path, body, *LEAD, status=status)
    action = {"action_id": "a1", "kind": "alert_tuning", "owner": OWNER, "due_on": "2026-11-29"}
    # An owner holding anything but an e-mail login is refused: a masked owner could never act.
    refused = {**action, "description": "x", "owner": next(s.text for s in CORPUS)}
    await tour.command("add-prevention-action", INC + "/prevention-actions", refused, status=422)
    action["description"] = tour.pack(4000)
    await tour.command("add-prevention-action", INC + "/prevention-actions", action, status=201)
    done = {"note": tour.pack(4000)}
    path = INC + "/prevention-actions/a1/complete"
    await tour.command("complete-prevention-action", path, done, OWNER, "editor")
    await tour.command("close-incident", INC + "/close", {"summary": tour.pack(4000)}, *LEAD)
    await tour.command("reopen-incident", INC + "/reopen", {"reason": tour.pack(4000)}, *LEAD)


async def playbooks_refuse(tour: Tour) -> None:
    """Every playbook command refuses a secret anywhere in its body (nothing is appended)."""
    content = {**CONTENT_EXAMPLE, "description": tour.pack(4000)}
    pb = "/v1/playbooks/cart-followup"
    register = {"playbook_id": "leaky", "site_id": "acme-shop", "owner": "dana", "content": content}
    document = {"format": "x", "content": {"description": tour.pack(4000)}}
    imports = {"document": document, "owner": "lee", "target_facts": {}}
    first_run = {"run_id": "f1", "succeeded": True, "summary": tour.pack(4000)}
    ssn = next(s for s in CORPUS if s.family == "us_ssn").raw  # a valid id by its pattern
    for operation, path, body in (
        ("register-playbook", "/v1/playbooks", register),
        ("revise-playbook", pb + "/revisions", {"content": content}),
        ("export-playbook", pb + "/exports", {"export_id": ssn}),
        ("import-playbook", "/v1/sites/acme-shop/playbook-imports", imports),
        ("complete-local-change", pb + "/local-changes/c1/complete", {"note": tour.pack(4000)}),
        ("record-playbook-first-run", pb + "/first-runs", first_run),
    ):
        await tour.command(operation, path, body, "olga", "operations_lead", status=422)


ADMIN = ("dana", "administrator")
ROLLOUT = "/v1/sites/acme-shop/rollout"
HOOK = "/v1/webhook-subscriptions/leaky-hook"


async def rollout_and_webhooks(tour: Tour) -> None:
    """Rollout and webhook commands: free text masked; a grant's subject (an owner) refused."""
    content = {
        part: [tour.pack(500)] if isinstance(example, list) else tour.pack(1000)
        for part, example in SOP_CONTENT.items()
    }
    sop = {"role": "editor", "topic": "product_copy", "content": content}
    sop["change_note"] = tour.pack(1000)
    await tour.command("publish-sop", ROLLOUT + "/sops", sop, *ADMIN, status=201)
    for check in READINESS_CHECKS:
        body = {"method": "test_request", "note": tour.pack(1000)}
        await tour.command("verify-readiness-check", f"{ROLLOUT}/readiness/{check}", body, *ADMIN)
    ack = {"role": "editor", "topic": "product_copy", "version": 1}
    await tour.command(
        "acknowledge-sop", ROLLOUT + "/acknowledgments", ack, "erin", "editor", status=201
    )
    secret_subject = next(s.text for s in CORPUS if len(s.text) <= 200)
    refused = {"subject": secret_subject, "role": "editor"}
    await tour.command("grant-access", ROLLOUT + "/grants", refused, *ADMIN, status=422)
    for subject, role in (("erin", "editor"), ("dana", "administrator")):
        grant = {"subject": subject, "role": role}
        await tour.command("grant-access", ROLLOUT + "/grants", grant, *ADMIN, status=201)
    for enabled in (True, False):
        switch = {"enabled": enabled, "reason": tour.pack(1000)}
        await tour.command(
            "set-grant-enforcement", ROLLOUT + "/enforcement", switch, *ADMIN, method="PUT"
        )
    finding = {
        "finding_id": "leaky-finding",
        "subject": "erin",
        "role": "editor",
        "topic": "product_copy",
        "kind": "skipped_context",
        "source": "prompts",
        "note": tour.pack(2000),
        "cited_event_ids": [],
    }
    await tour.command("record-review-finding", ROLLOUT + "/findings", finding, *ADMIN, status=201)
    revoke = {"subject": "erin", "role": "editor", "reason": tour.pack(1000)}
    await tour.command("revoke-access", ROLLOUT + "/grants/revoke", revoke, *ADMIN)
    hook = {
        "subscription_id": "leaky-hook",
        "url": "https://hooks.acme.example/sophmate",
        "event_types": ["workflow.*"],
        "site_id": "acme-shop",
        "description": tour.pack(500),
    }
    await tour.command(
        "create-webhook-subscription", "/v1/webhook-subscriptions", hook, *ADMIN, status=201
    )
    rotate = {"previous_valid_hours": 1}
    await tour.command("rotate-webhook-secret", HOOK + "/rotate-secret", rotate, *ADMIN)
    recover = {"since_position": 0}
    path = HOOK + "/recover"
    await tour.command("recover-webhook-deliveries", path, recover, *ADMIN, status=202)
    disable = {"reason": tour.pack(1000)}
    await tour.command("disable-webhook-subscription", HOOK + "/disable", disable, *ADMIN)


async def reads(tour: Tour, token: TokenFactory) -> None:
    at = f"min_position={tour.position}"
    await tour.read("/v1/sites/leaky-shop", bearer(token(sites=("leaky-shop",))))
    for path in (
        "/v1/sites/acme-shop",
        "/v1/workflows/leaky-flow",
        WF,
        WF + "/explain",
        WF + "/runs",
        "/v1/sites/acme-shop/kill-switches",
        INC,
        INC + "/timeline",
        INC + "/handoffs/h1",
        f"/v1/sites/acme-shop/activity?{at}",
        f"/v1/sites/acme-shop/workflows?{at}",
        f"/v1/sites/acme-shop/incidents?{at}",
        f"/v1/prevention-actions?{at}&include_completed=true",
        f"/v1/approvals?{at}",
        "/v1/streams/" + "incident-" + OPEN_EXAMPLE["incident_id"] + "/events",
    ):
        await tour.read(path)


async def test_no_secret_of_the_corpus_survives_any_command(
    api: Api,
    pool: asyncpg.Pool,
    database: ScratchDatabase,
    token: TokenFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tour = Tour(api, pool)
    await sites_and_keys(tour, token)
    await workflows_and_runs(tour)
    await incident_review(tour)
    await playbooks_refuse(tour)
    await rollout_and_webhooks(tour)
    await reads(tour, token)

    # Every command with a body was sent the corpus (all but the one whose body is an id only),
    # and every sample of the corpus was sent.
    with_body = {r.operation_id for r in command_routes(api_routes()) if r.body_field is not None}
    assert with_body <= set(tour.commands), with_body - set(tour.commands)
    silent = {op for op, families in tour.commands.items() if not families}
    ids_only = {"create-support-handoff", "export-playbook"}
    # Bodies of ids, enumerations and numbers only: nothing there is free text.
    no_text = {"acknowledge-sop", "rotate-webhook-secret", "recover-webhook-deliveries"}
    assert silent <= {*ids_only, *no_text, "register-site-key", "approve-run"}, silent
    assert set(CORPUS) == tour.sent
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "/v1/incidents" in logged, "the access log lines were captured"
    found = leaks(
        tour.sent,
        answers="\n".join(tour.answers),
        tables=await every_table(database.owner_url),
        logs=logged,
    )
    assert found == []
