"""When a failed delivery is tried again, and what an endpoint's answer means."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
"""After the first attempt fails, seven more, this far apart; after the last, the dead letters."""
ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1
"""Up to 10 % later, so the deliveries that failed together do not all come back together."""
MAX_RETRY_AFTER = timedelta(hours=24)
FAILING_DISABLES_AFTER = timedelta(days=5)


@dataclass(frozen=True)
class Outcome:
    """What one attempt's answer means for the delivery."""

    delivered: bool = False
    gone: bool = False
    """410: the endpoint says it no longer exists; the subscription is disabled."""
    retry_after: timedelta | None = None


def classify(status: int | None, retry_after_header: str | None, now: datetime) -> Outcome:
    if status is not None and 200 <= status < 300:
        return Outcome(delivered=True)
    if status == 410:
        return Outcome(gone=True)
    return Outcome(retry_after=parse_retry_after(retry_after_header, now))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Seconds or an HTTP date (RFC 9110); anything else, negative or absurd, is ignored."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit() and len(value) <= 9:
        wait = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = when - now
    if wait < timedelta(0):
        return None
    return min(wait, MAX_RETRY_AFTER)


def next_attempt(
    attempts_made: int, now: datetime, rng: random.Random, retry_after: timedelta | None = None
) -> datetime | None:
    """When to try again after `attempts_made` failed attempts; None once all are spent. A
    Retry-After longer than the schedule's wait is honoured; a shorter one does not hurry it."""
    if attempts_made >= ATTEMPTS:
        return None
    delay = RETRY_DELAYS[attempts_made - 1]
    delay += delay * JITTER * rng.random()
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return now + delay
