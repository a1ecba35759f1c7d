"""One realistic command's event: a run approval with the metadata the service records."""

from __future__ import annotations

import json
import uuid
from typing import Any

STREAM_TYPE = "run"
SITE_ID = "acme-shop"
EVENT_TYPE = "RunApproved"


def event_data(stream_id: str, version: int) -> dict[str, Any]:
    """About 400 bytes of JSON, the size of a typical approval or pause."""
    return {
        "run_id": stream_id,
        "workflow_id": "wf-nightly-content-refresh",
        "site_id": SITE_ID,
        "step": version,
        "approved_by": "alice@acme-shop.example",
        "reason": "Reviewed the diff of the three product pages; prices and stock unchanged.",
        "changes": [
            {"kind": "post", "id": 4181, "field": "excerpt", "chars": 212},
            {"kind": "post", "id": 4182, "field": "title", "chars": 48},
        ],
        "rollback_path": "/wp-admin/admin.php?page=sophmate-rollback&run=" + stream_id,
    }


def event_metadata() -> dict[str, Any]:
    """What CommandContext.metadata() records: who, how, and which request."""
    return {
        "actor": "alice",
        "roles": ["administrator", "approver"],
        "key_id": "site-acme-shop-2024",
        "operation_id": "approve-run",
        "request_id": uuid.uuid4().hex,
        "client_ip": "203.0.113.42",
    }


def pgbench_row() -> str:
    """The same bytes as one event's data and metadata, as one jsonb literal for pgbench."""
    return json.dumps({"data": event_data("run-pgbench", 1), "metadata": event_metadata()})
