"""What the document says beyond the happy path: every error is the Problem, derived from the
route table; the docs pages work with no network."""

from __future__ import annotations

import httpx

from service.app import api_routes, create_app
from service.auth.roles import PUBLIC_OPERATIONS
from service.contract.answers import error_statuses
from service.openapi import openapi_document
from service.settings import Settings, serves_api_docs

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def operations() -> dict[str, dict[str, object]]:
    doc = openapi_document()
    return {op["operationId"]: op for ms in doc["paths"].values() for op in ms.values()}


def test_every_error_answer_is_the_problem_and_fastapis_own_422_is_gone() -> None:
    doc = openapi_document()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    answers = doc["components"]["responses"]
    for answer in answers.values():
        assert answer["content"] == {"application/problem+json": {"schema": PROBLEM}}
        assert answer["headers"]["X-Request-Id"]["required"] is True
    assert "WWW-Authenticate" in answers["Unauthorized"]["headers"]
    assert "Retry-After" in answers["ServiceUnavailable"]["headers"]


def test_errors_are_derived_from_what_the_route_depends_on() -> None:
    ops = operations()
    routes = {route.operation_id: route for route in api_routes() if route.include_in_schema}
    for op_id, route in routes.items():
        documented = {int(s) for s in ops[op_id]["responses"] if int(s) >= 400}  # type: ignore[attr-defined]
        assert documented == set(error_statuses(route)), op_id
    assert error_statuses(routes["approve-run"]) == [401, 403, 404, 409, 413, 422, 503]
    assert error_statuses(routes["list-events"]) == [401, 403, 422, 503]
    assert error_statuses(routes["healthz"]) == [422]


def test_public_operations_need_no_token_and_the_bearer_is_a_jwt() -> None:
    doc = openapi_document()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["bearerFormat"] == "JWT"
    for op_id, op in operations().items():
        if op_id in PUBLIC_OPERATIONS:
            assert op["security"] == [], op_id
        else:
            assert op["security"] == [{"HTTPBearer": []}], op_id
        assert op["summary"] != op_id.replace("-", " ").title(), op_id


def test_commands_document_their_headers_and_creates_link_to_their_reads() -> None:
    ops = operations()
    answer = ops["register-workflow"]["responses"]["201"]  # type: ignore[index]
    assert answer["headers"]["ETag"]["required"] is True
    assert answer["links"]["Created"]["operationId"] == "get-workflow"
    assert answer["links"]["Created"]["parameters"] == {"workflow_id": "$request.body#/workflow_id"}
    if_match = next(p for p in ops["approve-run"]["parameters"] if p["name"] == "if-match")  # type: ignore[attr-defined]
    assert if_match["schema"]["pattern"].startswith("^")
    assert "ETag" in ops["get-workflow"]["responses"]["200"]["headers"]  # type: ignore[index]


async def test_docs_and_redoc_load_their_assets_from_this_server(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assert "cdn." not in html, page
        assets = [part.split('"')[0] for part in html.split('"/static-offline-docs/')[1:]]
        assert assets, page
        for asset in assets:
            served = await client.get("/static-offline-docs/" + asset)
            assert served.status_code == 200, asset


async def test_the_docs_are_a_setting_closed_in_production_by_default() -> None:
    assert serves_api_docs(Settings(env="development"))
    assert not serves_api_docs(Settings.model_construct(env="production", api_docs=None))
    assert serves_api_docs(Settings.model_construct(env="production", api_docs=True))
    closed = create_app(Settings(env="development", api_docs=False))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=closed), base_url="http://ledger"
    ) as client:
        for page in ("/docs", "/redoc", "/openapi.json"):
            answer = await client.get(page)
            assert answer.status_code == 404, page
            assert answer.headers["content-type"] == "application/problem+json"
    assert closed.openapi()["info"]["title"] == "SophMate Ops Ledger"
