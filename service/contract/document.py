"""Finishes the generated document: errors, headers, words, links (see service/contract)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from service import requests
from service.contract import headers, problem, words
from service.contract.answers import error_statuses, is_command, is_public
from service.contract.headers import header_ref

# FastAPI's own 422, replaced by the problem the service actually sends.
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
_REQUEST_HEADERS = {
    # The server's own forms (service/requests.py), so a client is refused by its schema first.
    "if-match": requests._IF_MATCH.pattern,
    "idempotency-key": requests._IDEMPOTENCY_KEY.pattern,
}
_PATH_PARAM = re.compile(r"\{(\w+)(?::path)?\}")


def install_contract(app: FastAPI, routes: list[APIRoute]) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(generate(), routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def finish(document: dict[str, Any], routes: list[APIRoute]) -> dict[str, Any]:
    info = document["info"]
    info["contact"], info["license"] = words.CONTACT, words.LICENSE
    document["servers"] = words.SERVERS
    document["tags"] = words.TAGS
    parts = document.setdefault("components", {})
    schemas = parts.setdefault("schemas", {})
    for name in _FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(problem.SCHEMAS)
    parts["responses"] = problem.components()
    parts["headers"] = headers.HEADERS
    bearer = parts["securitySchemes"]["HTTPBearer"]
    bearer["bearerFormat"] = "JWT"
    document["security"] = [{"HTTPBearer": []}]
    routes = [route for route in routes if route.include_in_schema]
    by_path = {(r.path_format, method): r for r in routes for method in r.methods or ()}
    for route in routes:
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            _operation(operation, route, by_path)
    document["components"] = dict(sorted(parts.items()))
    return document


def _operation(
    operation: dict[str, Any], route: APIRoute, routes: dict[tuple[str, str], APIRoute]
) -> None:
    command = is_command(route)
    operation["summary"] = words.summary(route)
    if is_public(route):
        operation["security"] = []
    for parameter in operation.get("parameters", []):
        _parameter(parameter)
    responses = operation["responses"]
    fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
    if fastapi_422.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    for status, answer in list(responses.items()):
        if int(status) < 400:
            _success(answer, route, command, routes)
    if command and route.status_code != 200 and "200" not in responses:
        # Already so (a repeat): nothing appended, answered 200 (service/ledger.py).
        success = responses[str(route.status_code)]
        responses["200"] = {
            **success,
            "description": "Already so: nothing was appended, `event_ids` is empty.",
        }
        responses["200"].pop("links", None)
    for status in error_statuses(route):
        declared = responses.get(str(status))
        if declared is None or "$ref" in declared:
            responses[str(status)] = problem.response_ref(status)
        elif "content" not in declared:
            # A route's own words for a status (record-run-result's violation) on the problem.
            responses[str(status)] = {
                **problem.RESPONSES[status][1],
                "description": declared["description"],
            }
        elif "headers" not in declared:
            declared["headers"] = {"X-Request-Id": header_ref("X-Request-Id", required=True)}
    operation["responses"] = dict(sorted(responses.items()))


def _parameter(parameter: dict[str, Any]) -> None:
    schema = parameter["schema"]
    # A parameter is absent or a string: `null` is not something a query or header can say.
    choices = schema.get("anyOf")
    if choices:
        kept = [choice for choice in choices if choice.get("type") != "null"]
        if len(kept) == 1:
            schema.pop("anyOf")
            schema.update(kept[0])
    pattern = _REQUEST_HEADERS.get(parameter["name"]) if parameter["in"] == "header" else None
    if pattern is not None:
        schema.update({"type": "string", "pattern": pattern})


def _success(
    answer: dict[str, Any],
    route: APIRoute,
    command: bool,
    routes: dict[tuple[str, str], APIRoute],
) -> None:
    if answer.get("description") in ("Successful Response", None, ""):
        answer["description"] = words.success_description(route, command)
    sent = answer.setdefault("headers", {})
    sent["X-Request-Id"] = header_ref("X-Request-Id", required=True)
    if command:
        sent["ETag"] = header_ref("ETag", required=True)
        sent["Idempotent-Replayed"] = header_ref("Idempotent-Replayed")
        links = _links(route, routes)
        if links:
            answer["links"] = links
    answer["headers"] = dict(sorted(sent.items()))


def _links(route: APIRoute, routes: dict[tuple[str, str], APIRoute]) -> dict[str, Any]:
    """From a command's answer to the reads of what it changed: its stream's events, and what
    a create made (the GET one path segment deeper, its new id from the body or the answer)."""
    links: dict[str, Any] = {
        "StreamEvents": {
            "operationId": "list-stream-events",
            "parameters": {"stream_id": "$response.body#/stream_id"},
            "description": "The events of the stream the command appended to.",
        }
    }
    if route.status_code != 201:
        return links
    for (path, method), read in routes.items():
        if method != "GET" or not path.startswith(route.path_format + "/{"):
            continue
        new = _PATH_PARAM.findall(path[len(route.path_format) :])
        if len(new) != 1 or path.count("/") != route.path_format.count("/") + 1:
            continue
        (name,) = new
        parameters = {p: f"$request.path.{p}" for p in _PATH_PARAM.findall(route.path_format)}
        parameters[name] = f"$request.body#/{name}"
        links["Created"] = {
            "operationId": read.operation_id,
            "parameters": parameters,
            "description": f"What was created: {words.summary(read)[:1].lower()}"
            f"{words.summary(read)[1:]}.",
        }
    return links
