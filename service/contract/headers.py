"""The headers the service sends, as reusable components, and the declarations of the routes
whose answers carry one that no dependency implies (service/contract/answers.py)."""

from __future__ import annotations

from typing import Any

from service.edge import REQUEST_ID_PATTERN


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": _header(
        "Names this request in the ledger's logs and in the events it appended; the client's "
        "own X-Request-Id when it is safe to keep, else a new UUID.",
        {"type": "string", "pattern": REQUEST_ID_PATTERN},
    ),
    "ETag": _header(
        'The stream version, quoted ("3"): send it back as If-Match to act only on what you read.',
        {"type": "string", "pattern": r'^"\d+"$'},
    ),
    "Idempotent-Replayed": _header(
        "Present on a repeat of an Idempotency-Key: this is the stored answer of the first "
        "request, and nothing was appended again.",
        {"type": "string", "enum": ["true"]},
    ),
    "WWW-Authenticate": _header("The scheme to use: a Bearer token.", {"type": "string"}),
    "Retry-After": _header(
        "Seconds to wait before repeating the same request.",
        {"type": "string", "pattern": r"^\d+$"},
    ),
    "Content-Disposition": _header(
        "The export as an attachment, with a file name.", {"type": "string"}
    ),
    "Allow": _header("The methods this path takes.", {"type": "string"}),
    "Location": _header("Where to read what was created.", {"type": "string"}),
}


def header_ref(name: str, *, required: bool = False) -> dict[str, Any]:
    ref: dict[str, Any] = {"$ref": f"#/components/headers/{name}"}
    # A $ref object takes no siblings in OpenAPI 3.0 tools; a required header is spelled out.
    return {**HEADERS[name], "required": True} if required else ref


VERSIONED: dict[int | str, dict[str, Any]] = {
    200: {"headers": {"ETag": header_ref("ETag", required=True)}}
}
"""The responses of a read folded from one stream (service/requests.py `versioned`)."""
ATTACHMENT: dict[str, Any] = {
    "Content-Disposition": header_ref("Content-Disposition", required=True)
}
"""The headers of an export's answer."""
