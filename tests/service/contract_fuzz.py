"""Schemathesis over the committed document, against a served ledger: the runner the contract
test and `make fuzz` share. It returns what failed, by operation and check, and the counts."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from service.requests import _IDEMPOTENCY_KEY as IDEMPOTENCY_KEY

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)


_fresh = itertools.count()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    # One principal sends every case: a key a generated case repeats ("0") would name another
    # case's request, a 422 by design. A valid key stays valid, and becomes this call's own.
    # Global scope: this is the one hook point every phase's call goes through.
    headers = case.headers or {}
    for name, key in list(headers.items()):
        usable = isinstance(key, str) and IDEMPOTENCY_KEY.match(key) and len(key) < 240
        if name.lower() == "idempotency-key" and usable:
            headers[name] = f"{key}.{next(_fresh)}"


@dataclass
class Report:
    cases: int = 0
    operations: set[str] = field(default_factory=set)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    """(operation label, check name) -> the first failure's title and message."""
    errors: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


def run(base_url: str, token: str, path_values: dict[str, str], *, examples: int) -> Report:
    config = SchemathesisConfig.from_dict(
        {
            "seed": 18,
            "base-url": base_url,
            "headers": {"Authorization": f"Bearer {token}"},
            "workers": 1,
            "request-timeout": 30,
            "suppress-health-check": ["all"],
            "generation": {"max-examples": examples, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
            },
            # Real objects for every path parameter, so reads and commands reach a decider.
            "parameters": {f"path.{name}": value for name, value in path_values.items()},
        }
    )
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()), config=config)
    report = Report()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(report, event)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            report.errors.append(f"{getattr(event, 'label', '')}: {event.info.format()}")  # type: ignore[union-attr]
    return report


def _record(report: Report, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    report.cases += len(recorder.cases)
    report.operations.add(recorder.label)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            report.statuses[interaction.response.status_code] += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = (recorder.label, check.name)
            answered = recorder.interactions.get(case_id)
            answer = ""
            if answered is not None and answered.response is not None:
                answer = (answered.response.content or b"")[:300].decode("utf-8", "replace")
            report.failures.setdefault(key, f"{failure.title}: {failure.message} <- {answer}")


def format_failures(failures: dict[tuple[str, str], str]) -> str:
    lines = [f"{op} [{check}] {text}" for (op, check), text in sorted(failures.items())]
    return "\n".join(lines)
