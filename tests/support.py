"""Small shared pieces of the test suite (the fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

from events.envelope import NewEvent

SITE_FACTS: dict[str, Any] = {
    "setup_owner": "dana@acme.example",
    "production_url": "https://shop.acme.example",
    "staging_url": "https://staging.shop.acme.example",
    "sophmate_version": "2.4.1",
    "wordpress_version": "6.6.2",
    "php_version": "8.2",
    "active_theme": "storefront",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def site_body(site_id: str = "acme-shop", **overrides: Any) -> dict[str, Any]:
    return {"site_id": site_id, **SITE_FACTS, **overrides}


def new_events(count: int, type_: str = "ThingHappened", **data: Any) -> list[NewEvent]:
    return [NewEvent(type=type_, data={"n": n, **data}) for n in range(count)]
