"""An export verified from its file (the CLI's way: workers read blocks of whole lines from the
file themselves) gives the answer that verifying its lines gives, first bad leaf included,
wherever the blocks are cut."""

from __future__ import annotations

import io
import json
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


TAMPERS = {
    "none": lambda lines: lines,
    "changed byte": _changed_byte,
    "deleted line": lambda lines: [*lines[:60], *lines[61:]],
    "swapped lines": lambda lines: [*lines[:30], lines[31], lines[30], *lines[32:]],
    "truncated": lambda lines: lines[:-3],
    "blank lines and no final newline": lambda lines: [lines[0], "", *lines[1:], "  "],
}


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
    assert (expected.problem is None) == (tamper in ("none", "blank lines and no final newline"))
    for jobs in (1, 2):
        assert verify_export_file(str(path), KEYRING, jobs=jobs) == expected, jobs
