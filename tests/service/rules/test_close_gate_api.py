"""Over HTTP: an incident closes only with the whole review (issue 14, item 7): detection gaps,
missing evidence and the safeguards that worked and failed are part of the close gate."""

from __future__ import annotations

import asyncpg

from tests.service.conftest import Api
from tests.service.incident_steps import ACTION, INC, OWNER, REVIEW, open_incident
from tests.service.rules.refusals import refused

FINDINGS = ("/detection-gaps", "/safeguards")


async def test_close_is_refused_without_gaps_evidence_and_safeguards(
    api: Api, pool: asyncpg.Pool
) -> None:
    await open_incident(api)
    for path, body in REVIEW:
        if path not in FINDINGS:
            assert (await api.post(INC + path, body, "sam", "support_lead")).is_success, path
    assert (await api.post(INC + "/prevention-actions", ACTION, "sam", "support_lead")).is_success
    assert await api.post(INC + "/prevention-actions/alert-index-age/complete", {}, OWNER)
    close = api.post(INC + "/close", {"summary": "prices right again"}, "sam", "support_lead")
    missing = ["detection_gaps", "missing_evidence", "safeguards.worked", "safeguards.failed"]
    await refused(pool, close, 409, missing)
    gaps = {"gaps": ["no alert on index age"], "missing_evidence": []}
    assert (await api.post(INC + "/detection-gaps", gaps, "sam", "support_lead")).is_success
    half = {"worked": ["kill switch"], "failed": []}
    assert (await api.post(INC + "/safeguards", half, "sam", "support_lead")).is_success
    close = api.post(INC + "/close", {"summary": "prices right again"}, "sam", "support_lead")
    await refused(pool, close, 409, ["missing_evidence", "safeguards.failed"])
    assert (await api.get(INC)).json()["missing_for_close"] == [
        "missing_evidence",
        "safeguards.failed",
    ]
    for path, body in REVIEW:
        if path in FINDINGS:
            assert (await api.post(INC + path, body, "sam", "support_lead")).is_success
    closed = await api.post(INC + "/close", {"summary": "done"}, "sam", "support_lead")
    assert closed.status_code == 200, closed.text
