"""`sophmate-ledger demo`: fill a development database with a realistic agency.

Everything goes through the HTTP API of an in-process app (the same routes, commands, deciders,
tenancy and role checks the plugin meets), never through SQL: the demo is also a small end-to-end
check that the walkthrough in the README still holds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import httpx

from service.settings import Settings

AGENCY = "northwind-agency"
SITES = {
    "acme-shop": ("dana@acme.example", "https://shop.acme.example"),
    "globex-store": ("gil@globex.example", "https://store.globex.example"),
    "initech-blog": ("ivy@initech.example", "https://blog.initech.example"),
}
WORKFLOWS: list[dict[str, Any]] = [
    {
        "workflow_id": "nightly-meta-descriptions",
        "site_id": "acme-shop",
        "category": "content",
        "owner": "dana@acme.example",
        "trigger": "nightly at 02:00 site time",
        "input_scope": "posts published in the last 7 days without a meta description",
        "expected_output": "a meta description on each post, at most 155 characters",
    },
    {
        "workflow_id": "abandoned-cart-emails",
        "site_id": "acme-shop",
        "category": "marketing",
        "owner": "dana@acme.example",
        "contacts_customers": True,
        "trigger": "an hour after a cart is abandoned",
        "input_scope": "carts abandoned by customers who opted in to e-mail",
        "expected_output": "one reminder e-mail per cart",
    },
    {
        "workflow_id": "stock-sync",
        "site_id": "globex-store",
        "category": "catalog",
        "owner": "gil@globex.example",
        "trigger": "every 30 minutes",
        "input_scope": "products whose supplier stock changed",
        "expected_output": "stock levels equal to the supplier feed",
    },
    {
        "workflow_id": "comment-triage",
        "site_id": "initech-blog",
        "category": "support",
        "owner": "ivy@initech.example",
        "writes_data": False,
        "approvals_required": 0,
        "trigger": "on each new comment",
        "input_scope": "comments awaiting moderation",
        "expected_output": "a suggested label: spam, question, praise or complaint",
    },
]
COMMON: dict[str, Any] = {
    "writes_data": True,
    "contacts_customers": False,
    "approvals_required": 1,
    "retry_limit": 3,
    "notification_path": "#northwind-ops in Slack",
    "pause_rule": "pause after provider changes, plugin updates or 3 failed runs",
    "rollback_path": "restore the previous revisions from WordPress history",
}
# (run id, outcome, affected records, cost); None: still waiting for approval.
RUNS: dict[str, list[tuple[str, str | None, int, float]]] = {
    "nightly-meta-descriptions": [
        ("2026-11-20-0200", "succeeded", 14, 0.42),
        ("2026-11-21-0200", "succeeded", 9, 0.31),
        ("2026-11-22-0200", "failed", 0, 0.05),
        ("2026-11-23-0200", "succeeded", 11, 0.38),
        ("2026-11-24-0200", None, 0, 0.0),
    ],
    "stock-sync": [("2026-11-24-0930", "succeeded", 212, 0.0), ("2026-11-24-1000", None, 0, 0.0)],
}


class Demo:
    def __init__(self, http: httpx.AsyncClient, settings: Settings, agency: str = AGENCY) -> None:
        self.http, self.settings, self.agency = http, settings, agency

    def token(self, sub: str, role: str, sites: list[str]) -> str:
        from service.auth.tokens import mint_token

        return mint_token(
            self.settings.jwt_secret,
            sub=sub,
            roles=[role],
            sites=sites,
            agency=self.agency,
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
            ttl_seconds=600,
        )

    async def post(self, path: str, body: Any, who: str, role: str, site: str = "") -> None:
        sites = ["*"] if role == "administrator" else [site] if site else []
        headers = {"Authorization": f"Bearer {self.token(who, role, sites)}"}
        answer = await self.http.post(path, json=body, headers=headers)
        if answer.status_code >= 400:
            raise RuntimeError(f"POST {path} as {who}: {answer.status_code} {answer.text[:300]}")

    async def exists(self) -> bool:
        headers = {"Authorization": f"Bearer {self.token('root', 'administrator', ['*'])}"}
        return (await self.http.get("/v1/sites/acme-shop", headers=headers)).status_code == 200

    async def fill(self) -> None:
        from service.playbooks.schemas import CONTENT_EXAMPLE, TARGET_FACTS_EXAMPLE

        for site_id, (owner, url) in SITES.items():
            body = {
                "site_id": site_id,
                "agency_id": AGENCY,
                "setup_owner": owner,
                "production_url": url,
                "staging_url": url.replace("https://", "https://staging."),
                "sophmate_version": "2.4.1",
                "wordpress_version": "6.6.2",
                "php_version": "8.2",
                "active_theme": "storefront",
            }
            await self.post("/v1/sites", body, "root", "administrator")
        for workflow in WORKFLOWS:
            body = {**COMMON, **workflow}
            await self.post("/v1/workflows", body, "devon", "developer", workflow["site_id"])
        for workflow_id, runs in RUNS.items():
            site = next(w["site_id"] for w in WORKFLOWS if w["workflow_id"] == workflow_id)
            base = f"/v1/workflows/{workflow_id}/runs"
            for run_id, outcome, affected, cost in runs:
                await self.post(base, {"run_id": run_id}, "erin", "editor", site)
                if outcome is None:
                    continue
                await self.post(f"{base}/{run_id}/approve", None, "olga", "operations_lead", site)
                result: dict[str, Any] = {
                    "outcome": outcome,
                    "affected_records": affected,
                    "cost": cost,
                }
                if outcome == "failed":
                    result["diagnostics"] = "provider timed out after 30 s on 3 posts"
                    result["notification_sent"] = True
                await self.post(f"{base}/{run_id}/result", result, "plugin", "editor", site)
                review = {"summary": "checked a sample of the output"}
                await self.post(f"{base}/{run_id}/review", review, "olga", "operations_lead", site)
        pause = {"reason": "the model provider changed its model; labels need a review"}
        await self.post(
            "/v1/workflows/comment-triage/pause", pause, "olga", "operations_lead", "initech-blog"
        )
        switch = {"category": "marketing", "reason": "e-mail provider bounces every message"}
        await self.post(
            "/v1/sites/globex-store/kill-switches", switch, "sam", "support_lead", "globex-store"
        )
        incident = {
            "incident_id": "checkout-500s",
            "site_id": "acme-shop",
            "severity": "high",
            "summary": "Checkout answers 500 after the payment plugin update",
            "occurred_at": "2026-11-24T08:40:00Z",
            "affected_user": "wp-user-1842",
            "affected_screen": "Checkout",
            "sophmate_version": "2.4.1",
            "wordpress_version": "6.6.2",
            "php_version": "8.2",
            "reproduction_steps": "Add any product to the cart and press Place order",
            "linked": {"workflows": ["abandoned-cart-emails"]},
            "pause_linked_workflows": True,
        }
        await self.post("/v1/incidents", incident, "olga", "operations_lead", "acme-shop")
        action = {
            "action_id": "alert-checkout-errors",
            "kind": "alert_tuning",
            "description": "Alert when checkout answers 5xx twice in five minutes",
            "owner": "dana@acme.example",
            "due_on": "2026-12-15",
        }
        await self.post(
            "/v1/incidents/checkout-500s/prevention-actions",
            action,
            "sam",
            "support_lead",
            "acme-shop",
        )
        playbook = {
            "playbook_id": "cart-followup",
            "site_id": "acme-shop",
            "owner": "dana",
            "content": CONTENT_EXAMPLE,
        }
        await self.post("/v1/playbooks", playbook, "lena", "agency_lead")
        headers = {"Authorization": f"Bearer {self.token('lena', 'agency_lead', [])}"}
        exported = await self.http.post(
            "/v1/playbooks/cart-followup/exports", json={"export_id": "v1"}, headers=headers
        )
        document = exported.json()["document"]
        imported = {"document": document, "owner": "gil", "target_facts": TARGET_FACTS_EXAMPLE}
        await self.post("/v1/sites/globex-store/playbook-imports", imported, "lena", "agency_lead")
        subscription = {
            "subscription_id": "northwind-on-call",
            "url": "https://hooks.northwind.example/sophmate",
            "event_types": ["incident.*", "KillSwitchEngaged", "WorkflowPaused"],
            "agency_id": AGENCY,
            "description": "Northwind's on-call channel",
        }
        await self.post("/v1/webhook-subscriptions", subscription, "lena", "agency_lead")


async def fill_database(settings: Settings) -> bool:
    """True when the demo agency was created, False when it was already there."""
    from service.app import create_app

    app = create_app(settings.model_copy(update={"run_projections": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo.local") as http:
            demo = Demo(http, settings)
            if await demo.exists():
                return False
            await demo.fill()
    return True


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from service.cli_database import database_urls
    from service.database import migrate

    if settings.env == "production":
        print("refusing: the demo agency is for development databases only", file=sys.stderr)
        return 2
    with database_urls(settings) as (owner_url, app_url):
        migrate(owner_url, settings.app_role)
        created = asyncio.run(fill_database(settings.model_copy(update={"database_url": app_url})))
    if not created:
        print("the demo agency is already in this database; nothing was added")
        return 0
    print(
        f"demo agency {AGENCY}: {len(SITES)} sites, {len(WORKFLOWS)} workflows with runs, "
        "2 approvals waiting, 1 paused workflow, 1 kill switch, 1 incident,\n"
        "1 playbook on 2 sites.\n"
        f"Sign in at http://{settings.host}:{settings.port}/dashboard with:\n"
        f"  .venv/bin/sophmate-ledger token --sub olga --role operations_lead --agency {AGENCY} "
        + " ".join(f"--site {site}" for site in SITES)
        + f"\nor, to see the agency as its lead (who reads all but approves nothing):\n"
        f"  .venv/bin/sophmate-ledger token --sub lena --role agency_lead --agency {AGENCY}"
    )
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="fill a development database with a demo agency")
    demo.set_defaults(run=cmd_demo)
