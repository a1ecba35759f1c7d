"""Which errors an operation can answer, derived from what the route depends on.

A route's dependencies say what can go wrong before and while it runs: the token check can
refuse (401) or forbid (403); a command loads streams named in the path or the body (404),
decides on their state or clashes with If-Match (409) and refuses a malformed command (422);
anything that reads the database may find it away (503); a body may be too large (413) or not
match its schema (422); every API route refuses an undeclared query parameter (422).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from service.auth.dependencies import authenticate, authorize
from service.query_parameters import declared_query_parameters
from service.read_models.freshness import read_pool
from service.requests import command_context, get_ledger

DEPENDENCY_ANSWERS: dict[Callable[..., Any], frozenset[int]] = {
    # the verifier reads site keys and grants from the database
    authenticate: frozenset({401, 503}),
    authorize: frozenset({403}),
    command_context: frozenset({404, 409, 422, 503}),
    get_ledger: frozenset({503}),
    read_pool: frozenset({503}),
}
QUERY_ANSWERS: dict[str, frozenset[int]] = {
    # a position that is not one is 422; one the read model has not reached in time is 503
    "min_position": frozenset({422, 503}),
}


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from dependency_calls(sub)


def is_command(route: APIRoute) -> bool:
    return command_context in set(dependency_calls(route.dependant))


def is_public(route: APIRoute) -> bool:
    return authenticate not in set(dependency_calls(route.dependant))


def error_statuses(route: APIRoute) -> list[int]:
    """Every error status the route can answer, in order."""
    found = {422}
    for call in dependency_calls(route.dependant):
        found |= DEPENDENCY_ANSWERS.get(call, frozenset())
    if route.dependant.path_params:
        found.add(404)
    if route.dependant.body_params:
        found |= {413, 422}
    for name in declared_query_parameters(route):
        found |= QUERY_ANSWERS.get(name, frozenset())
    # What the route declares itself (record-run-result's recorded violation, a 503 of its own)
    found |= {int(status) for status in route.responses if int(status) >= 400}
    return sorted(found)
