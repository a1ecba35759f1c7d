"""RFC 9457 problem details as this service sends them, and the reusable error answers.

The schema is written out rather than generated from a model: it is the wire format of
service/problems.py (and of the edge's 413), with its extensions, and a client generated from it
must get the same names whatever pydantic would call them.
"""

from __future__ import annotations

from typing import Any

from service.contract.headers import header_ref
from service.problems import PROBLEM_JSON, TYPE_BASE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: every refusal of this service. It never carries the "
    "refused input, which may be a secret.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri",
            "description": "Names the kind of problem; stable, compare this rather than `title`.",
            "examples": [TYPE_BASE + "gate-not-satisfied"],
        },
        "title": {"type": "string", "examples": ["Gate not satisfied"]},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "examples": [409]},
        "detail": {"type": "string", "examples": ["incident cannot close yet"]},
        "missing": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The field paths a gate or the schema found missing or lacking.",
            "examples": [["root_cause", "prevention_actions[0].owner"]],
        },
        "errors": {
            "type": "array",
            "description": "Where the request does not match the schema, and what kind of "
            "mismatch; never the submitted value.",
            "items": {"$ref": "#/components/schemas/ProblemError"},
        },
        "current_version": {
            "type": "integer",
            "description": "A version clash: the stream's version now (send it as If-Match "
            "after reading the stream again).",
        },
        "findings": {
            "type": "array",
            "description": "Where the redaction found a secret or personal data, and what kind.",
            "items": {"$ref": "#/components/schemas/ProblemFinding"},
        },
    },
}
PROBLEM_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemError",
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "examples": [["body", "reason"]],
        },
        "msg": {"type": "string"},
        "type": {"type": "string", "examples": ["missing", "extra_forbidden"]},
    },
}
PROBLEM_FINDING_SCHEMA: dict[str, Any] = {
    "title": "ProblemFinding",
    "type": "object",
    "required": ["pointer", "kind"],
    "properties": {"pointer": {"type": "string"}, "kind": {"type": "string"}},
}
SCHEMAS = {
    "Problem": PROBLEM_SCHEMA,
    "ProblemError": PROBLEM_ERROR_SCHEMA,
    "ProblemFinding": PROBLEM_FINDING_SCHEMA,
}


def _answer(description: str, *headers: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            "X-Request-Id": header_ref("X-Request-Id", required=True),
            **{name: header_ref(name, required=True) for name in headers},
        },
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


RESPONSES: dict[int, tuple[str, dict[str, Any]]] = {
    401: (
        "Unauthorized",
        _answer("No token, or one this ledger does not accept.", "WWW-Authenticate"),
    ),
    403: (
        "Forbidden",
        _answer("Your roles may not do this, here: the role matrix or the decider's own rule."),
    ),
    404: (
        "NotFound",
        _answer("No such object, or it is another tenant's (existence does not leak)."),
    ),
    405: ("MethodNotAllowed", _answer("This path does not take this method.", "Allow")),
    409: (
        "Conflict",
        _answer(
            "The state does not allow it (yet): a gate with `missing`, something already done, "
            "or a version clash with `current_version` (If-Match)."
        ),
    ),
    413: ("ContentTooLarge", _answer("The body is larger than LEDGER_MAX_BODY_BYTES.")),
    422: (
        "UnprocessableContent",
        _answer(
            "The request is malformed: `errors` says where (body, query, path or header) and "
            "`missing` which fields; an unknown query parameter is refused too."
        ),
    ),
    503: (
        "ServiceUnavailable",
        _answer(
            "The database is away or busy, or a read model has not caught up with "
            "`min_position`: repeat the same request after Retry-After.",
            "Retry-After",
        ),
    ),
}


def response_ref(status: int) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/{RESPONSES[status][0]}"}


def components() -> dict[str, Any]:
    return {name: answer for name, answer in RESPONSES.values()}
