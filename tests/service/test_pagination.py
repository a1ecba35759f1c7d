"""The one cursor codec: keys round-trip whatever text they hold, and anything but a cursor this
list gave out is refused with the same InvalidCommand (422), never a database error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.errors import InvalidCommand
from service.incidents.board_queries import AGENCY_INCIDENTS, SITE_INCIDENTS, BoardKey
from service.playbooks.catalogue_queries import SITE_PLAYBOOKS, DeploymentKey
from service.workflows.board_queries import PENDING_APPROVALS, RequestKey

KEY = BoardKey(
    severity_rank=1, age_from=datetime(2026, 11, 22, 1, 58, 0, 123456, UTC), incident_id="c-1"
)


def test_keys_round_trip_through_an_opaque_url_safe_cursor() -> None:
    cursor = SITE_INCIDENTS.encode(KEY)
    assert cursor.replace("-", "").replace("_", "").isalnum()
    assert SITE_INCIDENTS.decode(cursor) == KEY
    odd = DeploymentKey(name='zoë "ops" / 2=3 \u2603', playbook_id="p.1")
    assert SITE_PLAYBOOKS.decode(SITE_PLAYBOOKS.encode(odd)) == odd
    assert SITE_INCIDENTS.decode(None) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!",
        "AAAA",
        SITE_INCIDENTS.encode(KEY)[:-3],
        SITE_INCIDENTS.encode(KEY)[:-1] + "x",
        AGENCY_INCIDENTS.encode(KEY),  # same key shape, another list
        PENDING_APPROVALS.encode(RequestKey(requested_position=3)),
    ],
)
def test_anything_else_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCommand, match="not a `next_cursor` of this list"):
        SITE_INCIDENTS.decode(cursor)


def test_a_page_has_a_cursor_only_when_a_row_follows_it() -> None:
    rows = [(RequestKey(requested_position=n), f"run-{n}") for n in (1, 2, 3)]
    assert PENDING_APPROVALS.page(rows, 3) == (["run-1", "run-2", "run-3"], None)
    items, cursor = PENDING_APPROVALS.page(rows, 2)
    assert items == ["run-1", "run-2"]
    assert PENDING_APPROVALS.decode(cursor) == RequestKey(requested_position=2)
    assert PENDING_APPROVALS.page([], 2) == ([], None)
