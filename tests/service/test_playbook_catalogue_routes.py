"""The agency playbook catalogue over HTTP, against real Postgres: deployments grouped by
lineage, the rollout of each at a glance, drift against the lineage's reference, and tenant
scoping of sites, agencies and the reference itself."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from events.domain.playbook_format import content_hash
from events.store import EventStore
from tests.conftest import TokenFactory
from tests.projections.test_playbook_catalogue import (
    AGENCY,
    CLIENT,
    EXPORTED_AT,
    LATER,
    SOURCE,
    PlaybookLog,
    content,
)
from tests.support import bearer, site_body

BETA, OTHER, OTHER_AGENCY = "beta-shop", "other-shop", "other-agency"
LINEAGE = content_hash(content())
V2 = content(name="Refund triage v2")


class Reader:
    def __init__(self, client: httpx.AsyncClient, token: TokenFactory, log: PlaybookLog) -> None:
        self.client, self.token, self.log = client, token, log

    def headers(self, role: str = "editor", sites: tuple[str, ...] = (CLIENT,)) -> Any:
        agency = OTHER_AGENCY if sites == (OTHER,) else AGENCY
        return bearer(self.token(sub="reader", roles=(role,), sites=sites, agency=agency))

    async def get(self, path: str, headers: Any = None, status: int = 200) -> Any:
        sep = "&" if "?" in path else "?"
        read = await self.client.get(
            f"{path}{sep}min_position={self.log.position}", headers=headers or self.headers()
        )
        assert read.status_code == status, read.text
        return read.json()

    async def pages(self, path: str, limit: int, headers: Any = None) -> list[dict[str, Any]]:
        """Every page of a list, concatenated; each page holds at most `limit` entries and only
        the last has no `next_cursor` (and may be full: no empty page follows it)."""
        entries: list[dict[str, Any]] = []
        cursor = ""
        while True:
            query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            page = await self.get(f"{path}{query}", headers)
            assert len(page["items"]) <= limit
            entries += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return entries
            assert len(page["items"]) == limit

    async def agency(self, agency_id: str = AGENCY, headers: Any = None) -> list[dict[str, Any]]:
        found = await self.get(f"/v1/agencies/{agency_id}/playbooks", headers)
        entries: list[dict[str, Any]] = found["items"]
        return entries

    async def site(self, site_id: str = CLIENT, headers: Any = None) -> dict[str, dict[str, Any]]:
        found = await self.get(f"/v1/sites/{site_id}/playbooks", headers)
        return {item["playbook_id"]: item for item in found["items"]}


def drift(entry: dict[str, Any]) -> dict[str, bool]:
    return {d["site_id"]: d["drift"] for d in entry["deployments"]}


@pytest.fixture
async def reader(client: httpx.AsyncClient, token: TokenFactory, store: EventStore) -> Reader:
    """The refund playbook registered on the agency's demo shop and imported into two client
    shops; a native stock-alert playbook on one of them; another agency's own playbook."""
    platform = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
    for site, agency in ((SOURCE, AGENCY), (CLIENT, AGENCY), (BETA, AGENCY), (OTHER, OTHER_AGENCY)):
        created = await client.post(
            "/v1/sites", json=site_body(site, agency_id=agency), headers=platform
        )
        assert created.status_code == 201, created.text
    log = PlaybookLog(store)
    await log.register("refunds")
    document = await log.export("refunds", "exp-1")
    await log.import_("refunds-client", document)
    await log.import_("refunds-beta", document, site=BETA, owner="bea")
    await log.register("stock", site=CLIENT, body=content(name="Stock alerts"), owner="omar")
    await log.register("foreign", site=OTHER, agency=OTHER_AGENCY, body=content(name="Foreign"))
    return Reader(client, token, log)


async def test_the_agency_catalogue_groups_deployments_by_lineage(reader: Reader) -> None:
    refunds, stock = await reader.agency(headers=reader.headers("agency_lead", ()))
    assert {k: v for k, v in refunds.items() if k != "deployments"} == {
        "lineage": LINEAGE,
        "name": "Refund request triage",
        "owner": "dana",
        "source_site": SOURCE,
        "latest_version": 1,
        "latest_content_hash": LINEAGE,
    }
    assert [(d["site_id"], d["playbook_id"]) for d in refunds["deployments"]] == [
        (SOURCE, "refunds"),
        (BETA, "refunds-beta"),
        (CLIENT, "refunds-client"),
    ]
    native, _, client = refunds["deployments"]
    assert (native["imported"], native["source_site"], native["exported_at"]) == (
        False,
        None,
        "2026-11-22T10:00:00Z",
    )
    assert {k: v for k, v in client.items() if k not in ("last_position", "updated_at")} == {
        "playbook_id": "refunds-client",
        "site_id": CLIENT,
        "agency_id": AGENCY,
        "lineage": LINEAGE,
        "name": "Refund request triage",
        "owner": "omar",
        "version": 1,
        "source_version": 1,
        "content_hash": LINEAGE,
        "imported": True,
        "source_site": SOURCE,
        "exported_at": EXPORTED_AT.isoformat().replace("+00:00", "Z"),
        "environment": "staging",
        "read_only": True,
        "local_changes_open": ["provider", "product_language"],
        "local_changes_done": [],
        "first_run": None,
        "promotion_approvals": 0,
        "drift": False,
    }
    assert (stock["name"], stock["source_site"], drift(stock)) == (
        "Stock alerts",
        CLIENT,
        {CLIENT: False},
    )


async def test_the_site_list_shows_the_rollout_at_a_glance(reader: Reader) -> None:
    log = reader.log
    for change in ("provider", "product_language"):
        await log.complete("refunds-client", change)
    await log.first_run("refunds-client", "run-1")
    await log.approve("refunds-client")
    await log.promote("refunds-client")
    found = await reader.site()
    assert list(found) == ["refunds-client", "stock"], "by name"
    client = found["refunds-client"]
    assert client["first_run"] == {
        "run_id": "run-1",
        "succeeded": True,
        "environment": "staging",
        "read_only": True,
    }
    assert (client["environment"], client["read_only"], client["promotion_approvals"]) == (
        "production",
        False,
        1,
    )
    assert (client["local_changes_open"], client["local_changes_done"]) == (
        [],
        ["provider", "product_language"],
    )
    assert client["last_position"] == log.position

    await log.revise("refunds-client", content(prompt="Summarise {{order}} for the client"))
    client = (await reader.site())["refunds-client"]
    assert (client["first_run"], client["promotion_approvals"], client["environment"]) == (
        None,
        0,
        "staging",
    )
    assert (client["version"], client["drift"]) == (2, True), "a local revision drifts"


async def test_drift_shows_when_the_source_is_revised_after_the_import(reader: Reader) -> None:
    lead = reader.headers("agency_lead", ())
    await reader.log.revise("refunds", V2)
    refunds, _ = await reader.agency(headers=lead)
    assert (refunds["name"], refunds["latest_version"], refunds["latest_content_hash"]) == (
        "Refund triage v2",
        2,
        content_hash(V2),
    )
    assert drift(refunds) == {SOURCE: False, BETA: True, CLIENT: True}
    assert refunds["lineage"] == LINEAGE, "a lineage keeps its first version's hash"

    await reader.log.import_("refunds-client", await reader.log.export("refunds", "exp-2", LATER))
    refunds, _ = await reader.agency(headers=lead)
    assert drift(refunds) == {SOURCE: False, BETA: True, CLIENT: False}
    assert (await reader.site(CLIENT))["refunds-client"]["drift"] is False
    assert (await reader.site(BETA, lead))["refunds-beta"]["drift"] is True


async def test_without_the_source_in_sight_the_newest_export_is_the_reference(
    reader: Reader,
) -> None:
    await reader.log.revise("refunds", V2)
    await reader.log.import_("refunds-client", await reader.log.export("refunds", "exp-2", LATER))
    clients = reader.headers("editor", (CLIENT, BETA))
    refunds, _ = await reader.agency(headers=clients)
    assert [d["site_id"] for d in refunds["deployments"]] == [BETA, CLIENT]
    assert (refunds["source_site"], refunds["latest_version"], refunds["owner"]) == (
        SOURCE,
        2,
        "omar",
    )
    assert drift(refunds) == {BETA: True, CLIENT: False}
    beta_only = reader.headers("editor", (BETA,))
    (refunds,) = await reader.agency(headers=beta_only)
    assert (refunds["latest_version"], drift(refunds)) == (1, {BETA: False})
    assert (await reader.site(BETA, beta_only))["refunds-beta"]["drift"] is False


async def test_another_tenants_playbooks_are_invisible(reader: Reader) -> None:
    stranger = reader.headers("administrator", (OTHER,))
    await reader.get(f"/v1/agencies/{AGENCY}/playbooks", stranger, status=404)
    await reader.get(f"/v1/sites/{CLIENT}/playbooks", stranger, status=404)
    await reader.get(f"/v1/sites/{OTHER}/playbooks", status=404)
    await reader.get(f"/v1/agencies/{OTHER_AGENCY}/playbooks", status=404)
    await reader.get("/v1/sites/nowhere-shop/playbooks", status=404)
    assert list(await reader.site(OTHER, stranger)) == ["foreign"]

    # The same lineage imported into another agency's site stays in that agency's catalogue.
    document = await reader.log.export("refunds", "exp-2", LATER)
    await reader.log.import_("refunds-other", document, site=OTHER, agency=OTHER_AGENCY)
    foreign, refunds = await reader.agency(OTHER_AGENCY, stranger)
    assert (refunds["lineage"], refunds["source_site"]) == (LINEAGE, SOURCE)
    assert [d["playbook_id"] for d in foreign["deployments"] + refunds["deployments"]] == [
        "foreign",
        "refunds-other",
    ]
    lead = reader.headers("agency_lead", ())
    refunds, _ = await reader.agency(headers=lead)
    assert [d["site_id"] for d in refunds["deployments"]] == [SOURCE, BETA, CLIENT]
    editor = reader.headers("editor", (BETA,))
    (refunds,) = await reader.agency(headers=editor)
    assert [d["site_id"] for d in refunds["deployments"]] == [BETA]


async def more_playbooks(reader: Reader) -> None:
    """Names that sort differently by code point and by a language's rules, two lineages of the
    same name (on the agency's demo shop and on the client shop), and drift in both directions."""
    log = reader.log
    for playbook_id, name, site in (
        ("zeta", "Zeta checks", SOURCE),
        ("alpha", "alpha checks", CLIENT),
        ("ecoute", "Écoute client", CLIENT),
        ("same-1", "Same name", SOURCE),
        ("same-2", "Same name", CLIENT),
    ):
        body = content(name=name, prompt=f"Check {{{{order}}}} for {playbook_id}")
        await log.register(playbook_id, site=site, body=body)
    await log.import_("zeta-client", await log.export("zeta", "exp-zeta"))
    await log.revise("refunds", V2)


async def test_the_agency_catalogue_pages_by_lineage(reader: Reader) -> None:
    await more_playbooks(reader)
    lead = reader.headers("agency_lead", ())
    whole = await reader.get(f"/v1/agencies/{AGENCY}/playbooks?limit=200", lead)
    assert whole["next_cursor"] is None
    names = [entry["name"] for entry in whole["items"]]
    assert names == sorted(names), "by name, in code point order"
    assert len(names) == 7
    assert names.count("Same name") == 2
    same = [entry["lineage"] for entry in whole["items"] if entry["name"] == "Same name"]
    assert same == sorted(same), "the lineage breaks a tie of names"
    refunds = next(entry for entry in whole["items"] if entry["lineage"] == LINEAGE)
    assert drift(refunds) == {SOURCE: False, BETA: True, CLIENT: True}
    for limit in (1, 2, 3, 7):
        assert (
            await reader.pages(f"/v1/agencies/{AGENCY}/playbooks", limit, lead) == (whole["items"])
        ), "every lineage once, in order, with all its deployments and the same drift"

    beta_only = reader.headers("editor", (BETA,))
    (beta,) = await reader.pages(f"/v1/agencies/{AGENCY}/playbooks", 1, beta_only)
    assert drift(beta) == {BETA: False}, "the reference is among the deployments you may see"


async def test_the_site_list_pages_by_name_then_playbook_id(reader: Reader) -> None:
    await more_playbooks(reader)
    lead = reader.headers("agency_lead", ())
    whole = await reader.get(f"/v1/sites/{CLIENT}/playbooks?limit=200", lead)
    assert whole["next_cursor"] is None
    drifts = {item["playbook_id"]: item["drift"] for item in whole["items"]}
    assert drifts == {
        "alpha": False,
        "ecoute": False,
        "refunds-client": True,
        "same-2": False,
        "stock": False,
        "zeta-client": False,
    }
    for limit in (1, 2, 4, 6):
        # A page of one deployment still finds its lineage's reference on another site.
        paged = await reader.pages(f"/v1/sites/{CLIENT}/playbooks", limit, lead)
        assert paged == whole["items"], "every deployment once, in order, the same drift"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_a_malformed_playbook_cursor_is_refused_without_echo(reader: Reader) -> None:
    lead = reader.headers("agency_lead", ())
    for cursor in (
        "secret cursor value!",  # not base64url
        b64(b"secret-cursor-value"),  # not JSON
        b64(b'["secret-cursor-value"]'),  # not a pair
        b64(b'["secret-cursor",7]'),  # not two strings
        b64(b'[ "secret-cursor", "value" ]'),  # not as we encode it
        b64(b'["secret-cursor\\u0000","value"]'),  # NUL, which Postgres text cannot hold
        b64(b'["secret-cursor\\ud800","value"]'),  # a lone surrogate
        b64(b"\xff" + b"secret-cursor-value" * 500),  # longer than a cursor
        b64(b"[" * 6000),  # JSON nested deeper than Python parses
    ):
        for path in (f"/v1/agencies/{AGENCY}/playbooks", f"/v1/sites/{CLIENT}/playbooks"):
            read = await reader.client.get(f"{path}?cursor={cursor}", headers=lead)
            assert read.status_code == 422, (cursor, read.text)
            assert read.headers["content-type"] == "application/problem+json"
            assert read.json()["status"] == 422
            assert cursor not in read.text
            assert "secret" not in read.text
    for limit in (0, 201):
        await reader.get(f"/v1/sites/{CLIENT}/playbooks?limit={limit}", lead, status=422)
