"""An export verified from its file (the CLI's way: workers read blocks of whole lines from the
file themselves) gives the answer that verifying its lines gives, first bad leaf included,
wherever the blocks are cut."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.verify_export import KEY, write_export
from events.keys import Keyring
from service.audit import parallel
from service.audit.verify import verify_export, verify_export_file

KEYRING = Keyring([KEY.public])


def _export(events: int = 120) -> list[str]:
    body = io.StringIO()
    checkpoint = write_export(body, events, streams=7)
    header = json.dumps({"checkpoint": checkpoint.signed(KEY)})
    return [header, *body.getvalue().splitlines()]


def _changed_byte(lines: list[str]) -> list[str]:
    record = json.loads(lines[41])
    record["data"]["step"] += 1
    return [*lines[:41], json.dumps(record), *lines[42:]]


def _field(at: int, key: str, value: object) -> Callable[[list[str]], list[str]]:
    def tamper(lines: list[str]) -> list[str]:
        record = json.loads(lines[at])
        record[key] = value(record[key]) if callable(value) else value
        return [*lines[:at], json.dumps(record), *lines[at + 1 :]]

    return tamper


TAMPERS = {
    "none": lambda lines: lines,
    "changed byte": _changed_byte,
    "deleted line": lambda lines: [*lines[:60], *lines[61:]],
    "swapped lines": lambda lines: [*lines[:30], lines[31], lines[30], *lines[32:]],
    "truncated": lambda lines: lines[:-3],
    "blank lines and no final newline": lambda lines: [lines[0], "", *lines[1:], "  "],
    "no leaf index": _field(50, "leaf_index", None),
    "malformed line": lambda lines: [*lines[:50], "{", *lines[51:]],
}

ANSWERS = {
    # the records the workers' columns cannot hold, and the value they mark a missing index with
    "a leaf index of -1": (_field(50, "leaf_index", -1), "a leaf index repeats"),
    "a leaf index past int64": (_field(50, "leaf_index", 2**63), "leaf 49 is missing"),
    "a short hash": (_field(50, "prev_hash", lambda h: h[:-2]), "prev_hash does not link"),
    "a transaction past int64": (_field(50, "transaction_id", 2**63), "not a well-formed event"),
}


OK = ("none", "blank lines and no final newline", "no leaf index")


@pytest.mark.parametrize("tamper", TAMPERS, ids=list(TAMPERS))
@pytest.mark.parametrize("block", [1, 3000, 1 << 22])
def test_a_file_verifies_as_its_lines_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: str, block: int
) -> None:
    lines = TAMPERS[tamper](_export())
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(parallel, "BLOCK", block)
    expected = verify_export(lines, KEYRING)
    assert (expected.problem is None) == (tamper in OK)
    for jobs in (1, 2):
        assert verify_export_file(str(path), KEYRING, jobs=jobs) == expected, jobs


@pytest.mark.parametrize("case", ANSWERS, ids=list(ANSWERS))
def test_a_record_the_columns_cannot_hold_is_checked_as_any_other(
    tmp_path: Path, case: str
) -> None:
    tamper, reason = ANSWERS[case]
    lines = tamper(_export())
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(lines), encoding="utf-8")
    for outcome in (verify_export(lines, KEYRING), verify_export_file(str(path), KEYRING, jobs=2)):
        assert outcome.problem is not None
        assert (outcome.problem.leaf_index, reason in outcome.problem.reason) == (49, True)
