"""The retry schedule, with a seeded random source and fixed moments: no clock, no sleeping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from service.webhooks import schedule

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_seven_retries_on_the_published_schedule_with_at_most_ten_percent_jitter() -> None:
    rng = random.Random(7)
    waits = []
    for made in range(1, schedule.ATTEMPTS):
        when = schedule.next_attempt(made, NOW, rng)
        assert when is not None
        waits.append(when - NOW)
    for wait, base in zip(waits, schedule.RETRY_DELAYS, strict=True):
        assert base <= wait <= base * 1.1
    assert schedule.next_attempt(schedule.ATTEMPTS, NOW, rng) is None


def test_retry_after_longer_than_the_schedule_is_honoured_shorter_is_not() -> None:
    rng = random.Random(1)
    later = schedule.next_attempt(1, NOW, rng, timedelta(minutes=10))
    assert later == NOW + timedelta(minutes=10)
    sooner = schedule.next_attempt(2, NOW, rng, timedelta(seconds=1))
    assert sooner is not None
    assert sooner >= NOW + timedelta(minutes=5)


def test_retry_after_in_seconds_or_http_date_and_garbage_ignored() -> None:
    assert schedule.parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert schedule.parse_retry_after("Tue, 01 Dec 2026 12:30:00 GMT", NOW) == timedelta(minutes=30)
    for garbage in ("", "-5", "soon", "1e9", "99999999999999", "Tue, 01 Dec 2025 12:30:00 GMT"):
        assert schedule.parse_retry_after(garbage, NOW) is None
    assert schedule.parse_retry_after("9" * 9, NOW) == schedule.MAX_RETRY_AFTER


def test_what_an_answer_means() -> None:
    assert schedule.classify(204, None, NOW).delivered
    assert schedule.classify(410, None, NOW).gone
    for status in (None, 301, 400, 404, 429, 500, 503):
        outcome = schedule.classify(status, None, NOW)
        assert not outcome.delivered
        assert not outcome.gone
