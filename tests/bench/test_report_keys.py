"""The bench's report writer: every key issue 11 names is in latest.json, measured or None.

No speed is asserted: the figures here are made up, only their place in the document is checked.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.ceilings import Ceilings
from bench.loadgen import WrkRun
from bench.over_http import HttpResults
from bench.pgbench import LoggedRun
from bench.report import document, write
from bench.report_http import http_keys

NAMED = [
    *(
        f"approve_run_http{c}_{f}"
        for c in ("", "_1conn", "_8conn")
        for f in ("per_s", "p50_ms", "p99_ms")
    ),
    "pgbench_append_projection_tps",
    "eventsourcing_saves_per_s",
    "handwritten_endpoint_per_s",
    "approve_run_latency_growth",
    "load_generator",
    "load_generator_cpu_share",
    "get_workflow_per_s",
    "list_pending_approvals_per_s",
    "healthz_per_s",
    "approve_run_http_over_pgbench",
    "approve_run_http_over_eventsourcing",
    "approve_run_http_over_handwritten",
]
OLD = ["when", "machine", "postgres_settings", "levels", "goal", "projections"]


def wrk_run(connections: int, requests: int, p50_ms: float) -> WrkRun:
    return WrkRun(
        connections=connections,
        requests=requests,
        seconds=10.0,
        p50_ms=p50_ms,
        p99_ms=p50_ms * 3,
        errors=0,
        repeated=0,
        wrk_cpu_seconds=0.2,
        server_cpu_seconds=9.0,
        unused=[],
    )


def written(tmp_path: Path, http: HttpResults | None, ceilings: Ceilings | None) -> dict:
    keys = http_keys(http, ceilings, "wrk 4.1.0")
    doc = document([], None, seconds=10, postgres_version="18", settings={}, http=keys)
    return json.loads(write(doc, tmp_path / "latest.json").read_text())


def test_every_named_key_is_written_with_its_ratio(tmp_path: Path) -> None:
    http = HttpResults(workers=None, growth_runs=2000)
    http.approve = {
        1: wrk_run(1, 500, 20.0),
        8: wrk_run(8, 1000, 70.0),
        32: wrk_run(32, 1200, 250.0),
    }
    http.growth = wrk_run(1, 15, 700.0)
    http.reads = {
        name: wrk_run(32, 2600, 110.0)
        for name in ("healthz", "get_workflow", "list_pending_approvals")
    }
    ceilings = Ceilings(
        pgbench=LoggedRun(32, 3000.0, 8.0, 20.0), handwritten=wrk_run(32, 6000, 45.0)
    )

    doc = written(tmp_path, http, ceilings)

    assert set(NAMED + OLD) <= set(doc)
    assert doc["approve_run_http_per_s"] == 120.0
    assert doc["approve_run_http_1conn_p50_ms"] == 20.0
    assert doc["approve_run_http_cpu_ms"] == 7.5
    assert doc["approve_run_latency_growth"] == 35.0
    assert doc["approve_run_http_over_pgbench"] == 0.04
    assert doc["approve_run_http_over_handwritten"] == 0.2
    assert doc["load_generator_cpu_share"] == 0.02
    assert doc["load_generator_is_limit"] is False


def test_a_part_not_run_leaves_its_keys_none(tmp_path: Path) -> None:
    doc = written(tmp_path, None, None)

    assert set(NAMED) <= set(doc)
    assert all(doc[key] is None for key in NAMED)
