"""Every command has one shape: route -> typed command function -> Ledger (README, "Contributing:
a new command"). Read from the code itself, so a second way fails here, not in review."""

from __future__ import annotations

import ast
import collections.abc
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, get_args, get_origin, get_type_hints

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

import service
from events.domain.sites import SITES
from service.app import api_routes
from service.command import CommandContext, CommandPlan, CommandReply
from service.ledger import Ledger
from service.redaction_gate import CommandBody
from service.requests import Command, LedgerDep, command_context

SERVICE = Path(service.__file__).parent
CommandFunction = Callable[..., collections.abc.Awaitable[CommandReply]]


def command_modules() -> list[ModuleType]:
    """Where command functions live: `service/<domain>/commands.py` and `*_commands.py`."""
    names = [
        m.name
        for m in pkgutil.walk_packages(service.__path__, "service.")
        if m.name.rsplit(".", 1)[-1].endswith("commands")
    ]
    return [importlib.import_module(name) for name in sorted(names)]


def command_functions() -> dict[str, CommandFunction]:
    """Public async functions of the command modules that take the Ledger first."""
    found: dict[str, CommandFunction] = {}
    for module in command_modules():
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.iscoroutinefunction(function):
                continue
            if function.__module__ != module.__name__:
                continue  # imported, not defined here
            first = next(iter(inspect.signature(function).parameters.values()), None)
            if first is not None and get_type_hints(function).get(first.name) is Ledger:
                found[f"{module.__name__}.{name}"] = function
    return found


def _holds(annotation: Any, wanted: Callable[[Any], bool]) -> bool:
    if isinstance(annotation, list):  # a Callable's parameters
        return any(_holds(arg, wanted) for arg in annotation)
    return wanted(annotation) or any(_holds(arg, wanted) for arg in get_args(annotation))


def _is_mapping(annotation: Any) -> bool:
    origin = get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, collections.abc.Mapping)


def _is_decide_step(annotation: Any) -> bool:
    """A callable that takes something: a decider passed in instead of a typed command. A
    clock (`Callable[[], datetime]`) takes nothing and is fine."""
    if get_origin(annotation) is not collections.abc.Callable:
        return False
    params = get_args(annotation)[0] if get_args(annotation) else ...
    return params is ... or bool(params)


def _function_ast(function: Callable[..., object]) -> ast.AsyncFunctionDef:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    node = tree.body[0]
    assert isinstance(node, ast.AsyncFunctionDef)
    return node


def _ledger_executes(node: ast.AST) -> int:
    """Calls of `<a ledger>.execute(...)`: the one pipeline a command changes streams through."""
    return sum(
        1
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "execute"
        and "ledger" in ast.unparse(call.func.value).lower()
    )


def test_every_domain_has_command_functions() -> None:
    modules = {f.rsplit(".", 1)[0] for f in command_functions()}
    for domain in ("incidents", "playbooks", "rollout", "sites", "webhooks", "workflows"):
        assert f"service.{domain}.commands" in modules
    assert "service.workflows.kill_switch_commands" in modules


def test_command_functions_are_typed_on_what_they_act_on() -> None:
    """(ledger, ctx, ids..., body, dependencies...) -> CommandReply: no `Any`, no dict of
    fields, no decide step handed in by the route."""
    wrong: list[str] = []
    for name, function in command_functions().items():
        hints = get_type_hints(function)
        params = list(inspect.signature(function).parameters)
        if params[:2] != ["ledger", "ctx"] or hints.get("ctx") is not CommandContext:
            wrong.append(f"{name}: takes (ledger: Ledger, ctx: CommandContext, ...) first")
        if hints.get("return") is not CommandReply:
            wrong.append(f"{name}: answers a CommandReply")
        for param in params[2:]:
            annotation = hints[param]
            if _holds(annotation, lambda a: a is Any):
                wrong.append(f"{name}({param}): Any")
            if _holds(annotation, _is_mapping):
                wrong.append(f"{name}({param}): a dict of fields instead of a typed body")
            if _is_decide_step(annotation):
                wrong.append(f"{name}({param}): a decide step handed in")
            if param == "body" and not _holds(
                annotation, lambda a: isinstance(a, type) and issubclass(a, CommandBody)
            ):
                wrong.append(f"{name}(body): derives from CommandBody")
    assert wrong == []


def test_command_modules_do_not_import_any() -> None:
    """A command module has nothing untyped to say: its bodies, states and answers are typed."""
    importing = [
        module.__name__
        for module in command_modules()
        for node in ast.walk(ast.parse(inspect.getsource(module)))
        if isinstance(node, ast.ImportFrom)
        and node.module == "typing"
        and any(alias.name == "Any" for alias in node.names)
    ]
    assert importing == []


def test_each_command_function_runs_one_ledger_command() -> None:
    """One way to change several streams: one Command whose decide step appends to each, run
    once by the Ledger (atomic), never two executes one after the other."""
    counts = {name: _ledger_executes(_function_ast(f)) for name, f in command_functions().items()}
    assert {name: n for name, n in counts.items() if n != 1} == {}


def _depends_on(dependant: Dependant, call: object) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def command_routes() -> list[APIRoute]:
    return [route for route in api_routes() if _depends_on(route.dependant, command_context)]


def _called_command_functions(route: APIRoute) -> set[str]:
    """The command functions the route's endpoint calls, by `<commands module>.<function>`."""
    endpoint = route.endpoint
    called: set[str] = set()
    for call in ast.walk(_function_ast(endpoint)):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        owner = call.func.value
        module = endpoint.__globals__.get(owner.id) if isinstance(owner, ast.Name) else None
        if isinstance(module, ModuleType) and module.__name__.endswith("commands"):
            called.add(f"{module.__name__}.{call.func.attr}")
    return called


def test_every_command_route_calls_one_command_function() -> None:
    """A route parses, calls its command function and replies: it neither decides nor appends."""
    functions = command_functions()
    wrong: dict[str, object] = {}
    for route in command_routes():
        called = _called_command_functions(route)
        if len(called) != 1 or not called <= set(functions):
            wrong[str(route.operation_id)] = sorted(called)
        if _ledger_executes(_function_ast(route.endpoint)):
            wrong[str(route.operation_id)] = "calls ledger.execute itself"
    assert wrong == {}
    assert len(command_routes()) > 40  # the walk found the routes, not nothing


def _python_files() -> Iterator[Path]:
    yield from sorted(SERVICE.rglob("*.py"))


def test_only_the_ledger_appends_and_only_command_functions_execute() -> None:
    """Events reach the store through the Ledger's one append (idempotency, pins, inline
    projections, metrics); a command reaches the Ledger through a command function."""
    commands = {inspect.getsourcefile(m) for m in command_modules()}
    appending, executing = [], []
    for path in _python_files():
        tree = ast.parse(path.read_text())
        relative = str(path.relative_to(SERVICE.parent))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver = ast.unparse(node.func.value).lower()
            appends = node.func.attr in {"append_streams", "append"} and "store" in receiver
            if appends and relative != "service/ledger.py":
                appending.append(relative)
        if str(path) not in commands and relative != "service/ledger.py" and _ledger_executes(tree):
            executing.append(relative)
    assert appending == []
    assert executing == []


def test_the_walk_sees_the_known_shapes() -> None:
    """The checks above would catch the shapes this test was written against."""
    bad = Callable[[int, dict[str, Any], str], list[object]]
    assert _is_decide_step(bad)
    assert _holds(bad, _is_mapping)
    assert _holds(dict[str, Any], lambda a: a is Any)
    assert not _is_decide_step(Callable[[], object])
    source = "async def f(ledger):\n    await ledger.execute(a)\n    await ledger.execute(b)\n"
    assert _ledger_executes(ast.parse(source)) == 2


_forgetful = APIRouter()


@_forgetful.post("/v1/things", operation_id="record-thing")
async def _record_thing(ctx: Command, ledger: LedgerDep) -> None:
    """A route that runs its command itself, past any command function."""
    await ledger.execute(ctx, CommandPlan(SITES, "site-x", lambda site: [], "site"))


def test_a_route_that_runs_its_own_command_is_caught() -> None:
    (route,) = [r for r in _forgetful.routes if isinstance(r, APIRoute)]
    assert _depends_on(route.dependant, command_context)
    assert _called_command_functions(route) == set()
    assert _ledger_executes(_function_ast(route.endpoint)) == 1
