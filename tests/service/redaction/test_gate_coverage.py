"""Every command goes through the one redaction gate by construction: its body model is a
CommandBody, it makes its CommandContext (which starts the record of what was masked) before the
body is validated, and it takes no free text outside the body. A new command that skips any of
that fails here."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel

from service.app import api_routes
from service.dashboard import sources
from service.redaction_gate import CommandBody, SecretFreeBody
from service.requests import Command, command_context
from tests.service.redaction.families import CORPUS


def command_routes(routes: Iterable[APIRoute]) -> list[APIRoute]:
    return [route for route in routes if route.methods - {"GET", "HEAD"}]


def ungated(routes: Iterable[APIRoute]) -> list[str]:
    """The command routes that could let free text past the gate, and why."""
    problems = []
    for route in command_routes(routes):
        name = route.operation_id or route.path
        if route.dependant.query_params:
            problems.append(f"{name}: free text in the query string")
        if route.body_field is None:
            continue
        model = route.body_field.field_info.annotation
        if not (isinstance(model, type) and issubclass(model, CommandBody)):
            problems.append(f"{name}: body {model!r} is not a CommandBody")
        calls = [dependency.call for dependency in route.dependant.dependencies]
        if command_context not in calls:
            problems.append(f"{name}: no command context, so nothing records what was masked")
    return problems


def test_every_command_route_of_the_app_passes_the_gate() -> None:
    routes = command_routes(api_routes())
    assert len(routes) >= 38
    assert ungated(routes) == []


class _PlainNote(BaseModel):
    """A body a new command might bring, forgetting the gate."""

    note: str


_forgetful = APIRouter()


@_forgetful.post("/v1/things", operation_id="record-thing")
async def _record_thing(body: _PlainNote, ctx: Command) -> None: ...


@_forgetful.post("/v1/other", operation_id="record-other")
async def _record_other(note: str) -> None: ...


def test_a_new_command_without_the_gate_is_caught() -> None:
    problems = ungated([r for r in _forgetful.routes if isinstance(r, APIRoute)])
    assert [problem.split(":")[0] for problem in problems] == ["record-thing", "record-other"]
    assert "is not a CommandBody" in problems[0]
    assert "query string" in problems[1]


def test_playbook_bodies_refuse_rather_than_mask() -> None:
    from service.playbooks import schemas

    bodies = [
        getattr(schemas, name)
        for name in dir(schemas)
        if name.endswith("Body") and isinstance(getattr(schemas, name), type)
    ]
    assert len(bodies) >= 6
    assert all(issubclass(body, SecretFreeBody) for body in bodies)


def test_a_body_built_in_python_passes_the_gate_too() -> None:
    # The dashboard's forms build the API's bodies in Python: the same gate runs.
    sample = next(s for s in CORPUS if s.family == "gitlab")
    body = sources.PauseWorkflowBody(reason=sample.text)
    assert sample.raw not in (body.reason or "")
    assert [r.kind for r in body.redactions] == ["gitlab_token"]
