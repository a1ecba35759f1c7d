"""Over HTTP: a site registered without a rollback or support path gains one later, with who and
when on the record, and its workflows can then be promoted (issue 14, item 9)."""

from __future__ import annotations

import asyncpg
import httpx

from service.workflows.schemas import REGISTER_EXAMPLE
from tests.conftest import TokenFactory
from tests.service.conftest import Api, count_events
from tests.service.rules.refusals import refused
from tests.support import bearer, site_body

SITE = "bare-shop"
PATHS = f"/v1/sites/{SITE}/recovery-paths"
WF = "/v1/workflows/bare-meta"
SUCCESS = {"outcome": "succeeded", "affected_records": 3, "cost": 0.1}


class BareSite(Api):
    """The Api helper on a site registered without a rollback or support path."""

    def as_(self, sub: str, *roles: str) -> dict[str, str]:
        return bearer(self.token(sub=sub, roles=roles or ("operations_lead",), sites=(SITE,)))


async def test_a_site_without_a_path_gains_one_and_then_promotes(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    api = BareSite(client, token)
    assert (await api.post("/v1/sites", site_body(SITE), "root", "administrator")).is_success
    workflow = {**REGISTER_EXAMPLE, "workflow_id": "bare-meta", "site_id": SITE}
    assert (await api.post("/v1/workflows", workflow, "devon", "developer")).status_code == 201
    for run in ("a", "b", "c"):
        runs = WF + "/runs"
        assert (await api.post(runs, {"run_id": run}, "erin", "editor")).status_code == 201
        assert (await api.post(f"{runs}/{run}/approve", None, "olga")).status_code == 200
        assert (await api.post(f"{runs}/{run}/result", SUCCESS, "plugin", "editor")).is_success
        assert (await api.post(f"{runs}/{run}/review", {"summary": "ok"}, "olga")).is_success
    promote = api.post(WF + "/promote", {"reason": "three reviewed runs"}, "priya")
    await refused(pool, promote, 409, ["site.rollback_path"])

    blank = api.post(PATHS, {"rollback_path": "  ", "support_path": None}, "ana", "administrator")
    await refused(pool, blank, 422, ["rollback_path", "support_path"])
    path = {"rollback_path": "restore the nightly UpdraftPlus backup"}
    before = await count_events(pool)
    recorded = await api.post(PATHS, path, "ana", "administrator")
    assert recorded.status_code == 200, recorded.text
    assert await count_events(pool) == before + 1
    site = (await api.get(f"/v1/sites/{SITE}")).json()
    assert site["facts"]["rollback_path"] == path["rollback_path"]
    stream = (await api.get(f"/v1/streams/site-{SITE}/events")).json()["items"]
    last = stream[-1]
    assert (last["type"], last["data"]["recorded_by"]) == ("SiteRecoveryPathsRecorded", "ana")
    assert last["occurred_at"], "when"

    promoted = await api.post(WF + "/promote", {"reason": "three reviewed runs"}, "priya")
    assert promoted.status_code == 200, promoted.text
