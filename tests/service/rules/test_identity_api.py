"""Over HTTP: one person is one identity (issue 14, items 1 and 2). A case variant of the
requester cannot approve their run, of the definer cannot promote the workflow, of the importer
cannot approve the import; and a requester's own reviews do not count towards promotion."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.service.conftest import WF, Agency, Api
from tests.service.rules.refusals import refused

RUNS = WF + "/runs"
SUCCESS = {"outcome": "succeeded", "affected_records": 14, "cost": 0.37}


async def test_a_case_variant_of_the_requester_cannot_approve(api: Api, pool: asyncpg.Pool) -> None:
    assert (await api.post(RUNS, {"run_id": "r1"}, "erin", "editor")).status_code == 201
    for variant in ("ERIN", " Erin", "\uff45\uff52\uff49\uff4e"):
        approve = api.post(f"{RUNS}/r1/approve", None, variant, "operations_lead")
        await refused(pool, approve, 403, ["approval.second_person"])
    assert (await api.post(f"{RUNS}/r1/approve", None, "olga")).status_code == 200


async def test_the_definer_cannot_promote_in_another_case(api: Api, pool: asyncpg.Pool) -> None:
    for run in ("a", "b", "c"):
        await api.run(run, SUCCESS)
    # The workflow was registered by "devon"; its owner is dana@acme.example.
    for variant in ("Devon", "DANA@ACME.EXAMPLE"):
        promote = api.post(WF + "/promote", {"reason": "mine"}, variant, "operations_lead")
        await refused(pool, promote, 409, ["approval.second_person"])
    promoted = await api.post(WF + "/promote", {"reason": "three reviewed runs"}, "priya")
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["event_ids"]


async def test_a_requesters_own_reviews_do_not_count(api: Api, pool: asyncpg.Pool) -> None:
    for run in ("a", "b", "c"):
        assert (await api.post(RUNS, {"run_id": run}, "devi", "developer")).status_code == 201
        assert (await api.post(f"{RUNS}/{run}/approve", None, "olga")).status_code == 200
        recorded = await api.post(f"{RUNS}/{run}/result", SUCCESS, "plugin", "editor")
        assert recorded.status_code == 200, recorded.text
        review = await api.post(f"{RUNS}/{run}/review", {"summary": "mine"}, "DEVI", "developer")
        assert review.status_code == 200, "recorded: a review is evidence"
    promote = api.post(WF + "/promote", {"reason": "three reviewed runs"}, "priya")
    await refused(pool, promote, 409, ["runs.successful_reviewed"])


async def test_the_importer_cannot_approve_their_own_import_in_another_case(
    agency: Agency, pool: asyncpg.Pool
) -> None:
    imported = await agency.import_(await agency.export())
    assert imported.status_code == 201, imported.text
    playbook = "/v1/playbooks/" + imported.json()["playbook_id"]
    view: dict[str, Any] = (await agency.get(playbook)).json()
    for change in view["local_changes"]:
        done = f"{playbook}/local-changes/{change['change_id']}/complete"
        assert (await agency.post(done, {"note": "localised"})).status_code == 200
    run = {"run_id": "first", "succeeded": True, "environment": "staging", "read_only": True,
           "summary": "3 carts followed up"}  # fmt: skip
    assert (await agency.post(playbook + "/first-runs", run)).status_code in (200, 201)
    # agency.import_ imports as "lena"; her own approval, in capitals, is not a second person.
    approve = agency.post(playbook + "/promotion-approvals", None, "LENA")
    await refused(pool, approve, 409, ["promotion_approval.second_person"])
