"""Every API route refuses a query parameter it does not declare, in one way: a 422
problem+json whose `errors` name it as `extra_forbidden`, exactly as a query model with
`extra="forbid"` (list-events) answers.

Silently ignoring one gives a wrong answer with no error: `as_of` on a board (a projection of
the present) used to answer 200 with today's state, and a misspelt `limt` the default page.
Where a read can be answered as of a time it declares `as_of`; where it cannot, `as_of` is
refused here with that reason.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

TIME_TRAVEL = frozenset({"as_of", "at_version", "to_version"})
_NOT_AS_OF = (
    "This read answers the current state only and cannot be answered as of a time or a "
    "version; read the log (list-events with `until`) or a single stream's `as_of` instead."
)
_UNKNOWN = "This operation takes no such query parameter."

_declared: dict[int, frozenset[str]] = {}
"""Per route (by id: routes live as long as the app), the query parameter names it declares."""


def _query_names(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    for field in dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            # A query model (`Annotated[EventListQuery, Query()]`) stands for its fields.
            names.update(f.alias or name for name, f in model.model_fields.items())
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    found = _declared.get(id(route))
    if found is None:
        found = _declared[id(route)] = frozenset(_query_names(route.dependant))
    return found


async def refuse_unknown_query_parameters(request: Request) -> None:
    """A dependency of every API router (service/app.py)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    declared = declared_query_parameters(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in declared]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": _NOT_AS_OF if name in TIME_TRAVEL else _UNKNOWN,
                    "input": None,
                }
                for name in unknown
            ]
        )
