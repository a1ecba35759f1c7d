"""Over HTTP: blank is missing, and URLs are URLs (issue 14, item 3), for workflow definitions,
site facts and the reasons and summaries of every command."""

from __future__ import annotations

import asyncpg

from service.workflows.schemas import REGISTER_EXAMPLE
from tests.service.conftest import WF, Api
from tests.service.rules.refusals import refused
from tests.support import bearer, site_body


async def test_a_workflow_defined_with_blanks_is_refused(api: Api, pool: asyncpg.Pool) -> None:
    body = {**REGISTER_EXAMPLE, "workflow_id": "blank-one", "owner": "  ", "trigger": "\t",
            "notification_path": "\n", "pause_rule": "\u00a0", "rollback_path": " "}  # fmt: skip
    register = api.post("/v1/workflows", body, "devon", "developer")
    missing = ["owner", "trigger", "notification_path", "pause_rule", "rollback_path"]
    await refused(pool, register, 422, missing)
    definition = {k: v for k, v in body.items() if k not in ("workflow_id", "site_id",
                  "environment", "read_only")}  # fmt: skip
    revise = api.post(WF + "/revisions", definition, "devon", "developer")
    await refused(pool, revise, 422, missing)


async def test_site_facts_with_blanks_or_bad_urls_are_refused(api: Api, pool: asyncpg.Pool) -> None:
    facts = {"setup_owner": " ", "active_theme": "  ", "production_url": "shop.example",
             "staging_url": "ftp://staging.example"}  # fmt: skip
    platform = bearer(api.token(sub="root", roles=("administrator",), sites=("*",)))
    register = api.client.post("/v1/sites", json=site_body("blank-shop", **facts), headers=platform)
    missing = ["setup_owner", "production_url", "staging_url", "active_theme"]
    await refused(pool, register, 422, missing)


async def test_blank_reasons_and_summaries_are_refused(api: Api, pool: asyncpg.Pool) -> None:
    await refused(pool, api.post(WF + "/pause", {"reason": "   "}), 422, ["reason"])
    kill = {"category": "content", "reason": "\t"}
    await refused(pool, api.post("/v1/sites/acme-shop/kill-switches", kill), 422, ["reason"])
    change = {"kind": "other", "summary": "  "}
    await refused(pool, api.post("/v1/sites/acme-shop/changes", change), 422, ["summary"])
