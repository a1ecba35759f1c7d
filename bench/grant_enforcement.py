"""Grant enforcement's cost over HTTP: `get-site` read by a granted editor at 32 connections,
with the site's enforcement off and on, through `sophmate-ledger serve` and wrk.

Enforcement reads an in-process copy of the inline grant read model (service/auth/grants.py),
so the two rates should be the same within noise: no extra round trip per request. Off and on
alternate twice, so a drift in the machine's load moves both figures alike.

Keys: get_site_enforcement_off_per_s, get_site_enforcement_on_per_s (and their p50, p99 and the
service's CPU ms a request), and grant_enforcement_cost (on's CPU a request over off's; 1.0 is
free); grant_check_us is the check alone, in-process, in microseconds a request.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from bench import seed
from bench.loadgen import Target, WrkRun, run_wrk
from bench.server import bench_database
from bench.service import Service, serving

CONNECTIONS = 32
SOP = {
    "role": "editor",
    "topic": "product_copy",
    "change_note": "",
    "content": {
        "when_to_ask": "ask read-only questions first",
        "when_to_approve": "approve copy of your own products",
        "when_to_reject": "reject prices and stock claims",
        "when_to_escalate": "escalate legal claims",
        "when_to_stop": "stop when a kill switch is on",
        "examples": ["rewrite the kettle's description"],
        "refusal_rules": ["no customer data in prompts"],
        "approval_boundaries": ["copy only"],
        "escalation_path": "support lead",
    },
}
CHECKS = (
    "provider_setup", "diagnostics_reachable", "support_routing", "outbound_https", "backups",
    "permissions", "rollback_ownership", "high_risk_pause_location",
)  # fmt: skip
KEYS = (
    *(
        f"get_site_enforcement_{s}_{f}"
        for s in ("off", "on")
        for f in ("per_s", "p50_ms", "p99_ms", "cpu_ms")
    ),
    "grant_enforcement_cost",
    "grant_check_us",
)


async def _send(http: httpx.AsyncClient, method: str, path: str, token: str, body: Any) -> None:
    answer = await http.request(
        method, path, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    if answer.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.json().get('title')}")


async def prepare(service: Service, admin: str, editor: str) -> None:
    """A site rolled out to one editor: SOP, readiness, acknowledgment, grants."""
    base = f"/v1/sites/{seed.SITE}/rollout"
    async with seed.client(service.base_url) as http:
        await _send(http, "POST", "/v1/sites", admin, seed.SITE_BODY)
        await _send(http, "POST", f"{base}/sops", admin, SOP)
        for check in CHECKS:
            body = {"method": "test_request", "note": "checked from the bench host"}
            await _send(http, "POST", f"{base}/readiness/{check}", admin, body)
        ack = {"role": "editor", "topic": "product_copy", "version": 1}
        await _send(http, "POST", f"{base}/acknowledgments", editor, ack)
        await _send(http, "POST", f"{base}/grants", admin, {"subject": "erin", "role": "editor"})
        await _send(
            http, "POST", f"{base}/grants", admin, {"subject": "root", "role": "administrator"}
        )


async def _enforce(service: Service, admin: str, enabled: bool) -> None:
    async with seed.client(service.base_url) as http:
        body = {"enabled": enabled, "reason": "bench"}
        await _send(http, "PUT", f"/v1/sites/{seed.SITE}/rollout/enforcement", admin, body)


def check_microseconds(calls: int = 200_000) -> float:
    """The role layer's check alone, in-process: a granted editor on an enforced site of 50
    grants, as `authorize` calls it for every request. On a loaded machine the HTTP figures
    move by more than this whole cost; this one does not."""
    from service.auth.grants import GrantIndex, SiteGrants
    from service.auth.principal import Principal, Role

    index = GrantIndex(pool=None)
    honoured = frozenset({("erin", "editor"), *((f"op-{n}", "editor") for n in range(49))})
    index.sites = {seed.SITE: SiteGrants(None, honoured, {})}
    erin = Principal("erin", frozenset({Role.EDITOR}), frozenset({seed.SITE}), None, "ledger")
    began = time.perf_counter()
    for _ in range(calls):
        index.honoured(erin, "get-site", seed.SITE)
    return (time.perf_counter() - began) / calls * 1e6


def _mean(runs: list[WrkRun]) -> dict[str, float]:
    return {
        "per_s": round(sum(r.per_s for r in runs) / len(runs), 1),
        "p50_ms": round(sum(r.p50_ms for r in runs) / len(runs), 2),
        "p99_ms": round(sum(r.p99_ms for r in runs) / len(runs), 2),
        "cpu_ms": round(sum(r.server_cpu_ms for r in runs) / len(runs), 3),
    }


async def measure_grant_enforcement(
    server_url: str, wrk: Path, seconds: float, warmup: float, console: Console
) -> dict[str, Any]:
    async with bench_database(server_url) as db:
        with serving(db, None) as service:
            admin = service.token("root", "administrator", seed.SITE)
            editor = service.token("erin", "editor", seed.SITE)
            await prepare(service, admin, editor)
            target = Target(
                service.base_url,
                [f"GET /v1/sites/{seed.SITE}"],
                {"Authorization": f"Bearer {editor}"},
            )
            runs: dict[bool, list[WrkRun]] = {False: [], True: []}
            for enabled in (False, True, False, True):
                await _enforce(service, admin, enabled)
                with console.status(f"get-site, enforcement {'on' if enabled else 'off'}"):
                    if warmup > 0:
                        await asyncio.to_thread(run_wrk, wrk, target, CONNECTIONS, warmup)
                    run = await asyncio.to_thread(
                        run_wrk, wrk, target, CONNECTIONS, seconds, service.cpu_seconds
                    )
                if run.errors:
                    raise RuntimeError(f"get-site answered {run.errors} errors: not a clean run")
                console.print(
                    f"  enforcement {'on ' if enabled else 'off'}: {run.per_s:,.1f} req/s, "
                    f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, "
                    f"service {run.server_cpu_ms:.2f} cpu ms a request"
                )
                runs[enabled].append(run)
    off, on = _mean(runs[False]), _mean(runs[True])
    figures: dict[str, Any] = {f"get_site_enforcement_off_{k}": v for k, v in off.items()}
    figures |= {f"get_site_enforcement_on_{k}": v for k, v in on.items()}
    # The service's CPU per answered request holds better than rates on a loaded machine.
    cost = figures["grant_enforcement_cost"] = round(on["cpu_ms"] / off["cpu_ms"], 3)
    figures["grant_check_us"] = round(check_microseconds(), 2)
    console.print(
        f"grant enforcement: the check alone {figures['grant_check_us']} us a request; "
        f"get-site {off['per_s']:,.0f} req/s off, {on['per_s']:,.0f} on; "
        f"p50 {off['p50_ms']:.1f} / {on['p50_ms']:.1f} ms; cpu {off['cpu_ms']:.2f} / "
        f"{on['cpu_ms']:.2f} ms a request (cost {cost})"
    )
    return figures


if __name__ == "__main__":
    from bench.loadgen import find_wrk
    from bench.server import server

    with server() as url:
        asyncio.run(
            measure_grant_enforcement(
                url,
                find_wrk(),
                float(os.environ.get("LEDGER_BENCH_HTTP_SECONDS", "8")),
                float(os.environ.get("LEDGER_BENCH_WARMUP", "2")),
                Console(),
            )
        )
