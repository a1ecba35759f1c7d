"""The OpenAPI `webhooks` section: what a consumer receives, one entry per event type."""

from __future__ import annotations

from typing import Any

from events.catalogue import CATALOGUE
from service.webhooks.schemas import DeliveryPayload

HEADERS = [
    ("webhook-id", "The event id: the same on every attempt, so a consumer drops repeats."),
    ("webhook-timestamp", "Seconds since the epoch when this attempt was signed."),
    (
        "webhook-signature",
        "`v1,<base64 HMAC-SHA256>` over `<webhook-id>.<webhook-timestamp>.<body>`, keyed with "
        "the bytes after `whsec_`; two, space-separated, while a rotated secret is valid.",
    ),
]


def webhooks_section(event_prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the `webhooks` object, the component schemas it refers to)."""
    schemas = {"WebhookDelivery": DeliveryPayload.model_json_schema()}
    section: dict[str, Any] = {}
    for cls in CATALOGUE:
        name = cls.type_name()
        schema = {
            "allOf": [
                {"$ref": "#/components/schemas/WebhookDelivery"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": name},
                        "data": {"$ref": f"#/components/schemas/{event_prefix}{name}"},
                    },
                },
            ]
        }
        section[name] = {
            "post": {
                "summary": f"{name} was committed to the log",
                "description": (cls.__doc__ or "").strip() or f"A {name} event.",
                "tags": ["webhooks"],
                "parameters": [
                    {
                        "name": header,
                        "in": "header",
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for header, text in HEADERS
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema}},
                },
                "responses": {
                    "2XX": {"description": "Delivered: not sent again."},
                    "410": {"description": "Gone: the subscription is disabled, on the record."},
                    "default": {
                        "description": "Any other answer or none in time: retried after 5 s, "
                        "5 min, 30 min, 2 h, 5 h, 10 h and 10 h (Retry-After honoured), "
                        "then a dead letter."
                    },
                },
            }
        }
    return section, schemas
