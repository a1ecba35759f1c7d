"""The README's walkthrough, run against a started service: a site rolled out to a new editor.

`python -m service.rollout.walkthrough [--url http://127.0.0.1:8000] [--site acme-shop-2]`
prints every request and the answer the service gave. Tokens are minted with LEDGER_JWT_SECRET
as `sophmate-ledger token` mints them. Each run uses a site of its own (a new suffix unless
`--site` names one), so it can be run again and again against the same ledger.
"""

from __future__ import annotations

import argparse
import json
import secrets
from typing import Any

import httpx

from events.domain.rollout_events import READINESS_CHECKS
from service.auth.tokens import mint_token
from service.rollout.schemas import CONTENT_EXAMPLE
from service.settings import get_settings

FACTS = {
    "agency_id": None,
    "setup_owner": "dana@acme.example",
    "production_url": "https://shop.acme.example",
    "staging_url": "https://staging.shop.acme.example",
    "sophmate_version": "2.4.1",
    "wordpress_version": "6.6.2",
    "php_version": "8.2",
    "active_theme": "storefront",
}
SHOWN_CHECKS = 1
"""Readiness checks printed in full; the others are printed one line each."""


class Walk:
    def __init__(self, url: str, site: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.site = site
        self.position = 0
        self.settings = get_settings()

    def _mint(self, sub: str, role: str) -> str:
        """A token as `sophmate-ledger token --sub <sub> --role <role> --site <site>` makes it."""
        return mint_token(
            self.settings.jwt_secret,
            sub=sub,
            roles=[role],
            sites=[self.site],
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
        )

    def call(
        self, who: tuple[str, str], method: str, path: str, body: Any = None, quiet: bool = False
    ) -> httpx.Response:
        path = path.replace("{site}", self.site)
        if method == "GET" and "rollout/" in path and "runbook" not in path:
            path += f"?min_position={self.position}"  # read what the last command wrote
        headers = {"Authorization": f"Bearer {self._mint(*who)}"}
        answer = self.http.request(method, path, json=body, headers=headers)
        if answer.headers.get("content-type", "").startswith("application/") and answer.content:
            self.position = answer.json().get("position", self.position)
        if quiet:
            print(f"$ {who[0]} ({who[1]}): {method} {path} -> {answer.status_code}")
            return answer
        shown = "" if body is None else " " + json.dumps(body)
        print(f"$ {who[0]} ({who[1]}): {method} {path}{shown}")
        if answer.headers.get("content-type", "").startswith("text/markdown"):
            print(f"-> {answer.status_code}\n{answer.text}")
        else:
            print(f"-> {answer.status_code} {json.dumps(answer.json(), sort_keys=True)}\n")
        return answer


DANA = ("dana", "administrator")
ERIN = ("erin", "editor")
SAM = ("sam", "support_lead")
OWEN = ("owen", "editor")


def walk(url: str, site: str) -> None:
    w = Walk(url, site)
    rollout = "/v1/sites/{site}/rollout"
    w.call(DANA, "POST", "/v1/sites", {"site_id": site, **FACTS}, quiet=True)
    print("\n## 1. Publish the editor's SOP (an incomplete one is refused)\n")
    sop = {"role": "editor", "topic": "product_copy", "change_note": "first version"}
    w.call(DANA, "POST", f"{rollout}/sops", {**sop, "content": {"when_to_ask": "ask first"}})
    w.call(DANA, "POST", f"{rollout}/sops", {**sop, "content": CONTENT_EXAMPLE})
    print("## 2. Verify readiness (before it, no editor can be granted access)\n")
    w.call(DANA, "POST", f"{rollout}/grants", {"subject": "erin", "role": "editor"})
    page_load = {"method": "admin_page_load", "note": "the dashboard loaded"}
    w.call(DANA, "POST", f"{rollout}/readiness/backups", page_load)
    for n, check in enumerate(READINESS_CHECKS):
        body = {"method": "test_request", "note": f"{check}: checked from the web host"}
        w.call(DANA, "POST", f"{rollout}/readiness/{check}", body, quiet=n >= SHOWN_CHECKS)
    w.call(DANA, "GET", f"{rollout}/readiness", quiet=True)
    print("\n## 3. The editor acknowledges; access is granted\n")
    w.call(DANA, "POST", f"{rollout}/grants", {"subject": "erin", "role": "editor"})
    ack = {"role": "editor", "topic": "product_copy", "version": 1}
    acked = w.call(ERIN, "POST", f"{rollout}/acknowledgments", ack)
    w.call(DANA, "POST", f"{rollout}/grants", {"subject": "erin", "role": "editor"})
    print("## 4. Enforcement on: only granted (subject, role) pairs count on the site\n")
    enforce = {"enabled": True, "reason": "content team starts Monday"}
    w.call(DANA, "PUT", f"{rollout}/enforcement", enforce)
    w.call(DANA, "POST", f"{rollout}/grants", {"subject": "dana", "role": "administrator"})
    w.call(DANA, "POST", f"{rollout}/grants", {"subject": "sam", "role": "support_lead"})
    w.call(DANA, "PUT", f"{rollout}/enforcement", enforce)
    w.call(ERIN, "GET", "/v1/sites/{site}", quiet=True)
    w.call(OWEN, "GET", "/v1/sites/{site}")
    print("## 5. A first-week finding, citing the event it is about\n")
    finding = {
        "finding_id": "wk1-erin-01", "subject": "erin", "role": "editor",
        "topic": "product_copy", "kind": "skipped_context", "source": "prompts",
        "note": "asked for a description without the product page",
        "cited_event_ids": acked.json()["event_ids"],
    }  # fmt: skip
    w.call(SAM, "POST", f"{rollout}/findings", finding)
    w.call(DANA, "GET", f"{rollout}/findings")
    print("## 6. The SOP is revised: the editor's grant is suspended\n")
    revised = {**CONTENT_EXAMPLE, "when_to_ask": "Give Copilot the product page, then ask."}
    note = "wk1-erin-01: context first"
    w.call(DANA, "POST", f"{rollout}/sops", {**sop, "content": revised, "change_note": note})
    w.call(ERIN, "GET", "/v1/sites/{site}")
    print("## 7. The editor re-acknowledges: the grant is back\n")
    w.call(ERIN, "POST", f"{rollout}/acknowledgments", {**ack, "version": 2})
    w.call(ERIN, "GET", "/v1/sites/{site}", quiet=True)
    w.call(DANA, "GET", f"{rollout}/operators")
    print("## 8. The runbook, from the log\n")
    w.call(DANA, "GET", f"{rollout}/runbook?format=markdown")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--site", default=f"acme-shop-{secrets.token_hex(2)}")
    args = parser.parse_args()
    walk(args.url, args.site)


if __name__ == "__main__":
    main()
