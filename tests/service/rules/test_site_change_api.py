"""Over HTTP: plugin updates pause automation; whoever records the change may not switch the pause
off; only another operations lead or administrator releases it, with a reason (issue 14, item
5)."""

from __future__ import annotations

import asyncpg

from tests.service.conftest import Api
from tests.service.rules.refusals import refused

CHANGES = "/v1/sites/acme-shop/changes"
RELEASE = "/v1/sites/acme-shop/kill-switches/*/release"


async def test_the_recorder_may_not_waive_the_pause_of_a_plugin_update(
    api: Api, pool: asyncpg.Pool
) -> None:
    waived = {"kind": "plugin", "summary": "SophMate 2.5", "pause_automation": False}
    await refused(pool, api.post(CHANGES, waived, "devon", "developer"), 403, ["pause_automation"])
    await refused(pool, api.post(CHANGES, waived, "olga"), 403, ["pause_automation"])


async def test_a_plugin_update_pauses_until_another_lead_releases_it(
    api: Api, pool: asyncpg.Pool
) -> None:
    update = {"kind": "plugin", "summary": "SophMate 2.5"}
    recorded = await api.post(CHANGES, update, "olga")
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["automation_paused"] is True
    why = {"reason": "diagnostics clean after 2.5"}
    await refused(pool, api.post(RELEASE, why, "OLGA"), 403, ["released_by.second_person"])
    await refused(pool, api.post(RELEASE, why, "sam", "support_lead"), 403, ["released_by.role"])
    await refused(pool, api.post(RELEASE, {"reason": " "}, "omar"), 422, ["reason"])
    released = await api.post(RELEASE, why, "omar")
    assert released.status_code == 200, released.text
    switches = (await api.get("/v1/sites/acme-shop/kill-switches")).json()
    assert switches["engaged"] == []
    stream = await api.get("/v1/streams/killswitch-acme-shop/events")
    assert stream.status_code == 200, stream.text
    engaged, release = stream.json()["items"]
    assert (engaged["data"]["engaged_by"], engaged["data"]["by_site_change"]) == ("olga", True)
    assert (release["data"]["released_by"], release["data"]["reason"]) == ("omar", why["reason"])
