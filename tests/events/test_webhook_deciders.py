"""Webhook subscription rules, given/when/then, with no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.domain import webhooks as hooks
from events.errors import InvalidCommand, NotFound, StateConflict

CREATED = hooks.WebhookSubscriptionCreated(
    subscription_id="ops",
    url="https://hooks.example.com/h",
    event_types=["run.*"],
    site_id=None,
    agency_id="northwind-agency",
    description="",
    secret_fingerprint="0" * 16,
    created_by="lena",
)


def _create(**change: object) -> list[hooks.Event]:
    given: dict[str, object] = {
        "subscription_id": "ops",
        "url": "https://hooks.example.com/h",
        "event_types": ["run.*"],
        "site_id": None,
        "agency_id": "northwind-agency",
        "description": "",
        "fingerprint": "0" * 16,
        "actor": "lena",
        "https_only": False,
        **change,
    }
    return hooks.decide_create(hooks.Subscription(), **given)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        " https://hooks.example.com/h",
        "https://hooks.example.com/h ",
        "https://hooks.exa mple.com/h",
        "https://hooks.example.com/\x00",
        "https://user:pw@hooks.example.com/h",
        "https://hooks.example.com/h#fragment",
        "https://hooks.example.com:0/h",
        "https://hooks.example.com:99999/h",
        "ftp://hooks.example.com/h",
        "https:///h",
        "https://" + "a" * 2050 + ".com/",
    ],
)
def test_an_endpoint_that_is_no_http_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        _create(url=url)
    assert refused.value.missing == ["url"]


def test_production_takes_https_only() -> None:
    with pytest.raises(InvalidCommand) as refused:
        _create(url="http://hooks.example.com/h", https_only=True)
    assert refused.value.missing == ["url"]
    assert _create(url="https://hooks.example.com/h", https_only=True)


def test_filters_name_real_types_or_categories_and_a_scope_is_required() -> None:
    with pytest.raises(InvalidCommand) as refused:
        _create(event_types=["RunApproved", "NoSuchThing", "run.*", "*", "Run.*"])
    assert refused.value.missing == ["event_types[1]", "event_types[4]"]
    with pytest.raises(InvalidCommand) as empty:
        _create(event_types=[], agency_id=None)
    assert empty.value.missing == ["event_types", "site_id"]


def test_a_subscription_is_created_once() -> None:
    sub = hooks.SUBSCRIPTIONS.fold([CREATED])
    with pytest.raises(StateConflict):
        hooks.decide_create(
            sub,
            subscription_id="ops",
            url="https://hooks.example.com/h",
            event_types=["*"],
            site_id=None,
            agency_id="northwind-agency",
            description="",
            fingerprint="1" * 16,
            actor="lena",
            https_only=False,
        )


@pytest.mark.parametrize("reason", ["", "   ", "\t\n"])
def test_disabling_needs_a_reason_and_blank_is_none(reason: str) -> None:
    sub = hooks.SUBSCRIPTIONS.fold([CREATED])
    with pytest.raises(InvalidCommand) as refused:
        hooks.decide_disable(sub, reason, "lena", automatic=False)
    assert refused.value.missing == ["reason"]


def test_disable_enable_are_idempotent_and_a_deleted_one_is_gone() -> None:
    sub = hooks.SUBSCRIPTIONS.fold([CREATED])
    (disabled,) = hooks.decide_disable(sub, "migrating", "lena", automatic=False)
    off = hooks.evolve(sub, disabled)
    assert hooks.decide_disable(off, "again", "lena", automatic=False) == []
    assert hooks.decide_enable(sub, "lena") == []
    (deleted,) = hooks.decide_delete(sub, "lena")
    gone = hooks.evolve(sub, deleted)
    for decide in (
        lambda: hooks.decide_enable(gone, "lena"),
        lambda: hooks.decide_rotate(gone, "2" * 16, datetime(2026, 12, 2, tzinfo=UTC), "lena"),
        lambda: hooks.decide_redeliver(gone, "lena", delivery_id=1),
    ):
        with pytest.raises(NotFound):
            decide()


def test_recover_needs_a_starting_point() -> None:
    sub = hooks.SUBSCRIPTIONS.fold([CREATED])
    with pytest.raises(InvalidCommand) as refused:
        hooks.decide_redeliver(sub, "lena")
    assert refused.value.missing == ["since"]


def test_a_filter_matches_types_categories_and_everything() -> None:
    assert hooks.matches(("run.*",), "RunApproved", "run")
    assert not hooks.matches(("run.*",), "WorkflowPaused", "workflow")
    assert hooks.matches(("WorkflowPaused",), "WorkflowPaused", "workflow")
    assert hooks.matches(("*",), "Anything", "site")
