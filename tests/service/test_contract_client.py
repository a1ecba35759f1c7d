"""A client generated from the committed document (openapi-python-client, a dev dependency)
compiles, and the error types it parses are what the service sends: on a 404, a 409 and a 422
its `Problem` carries every member of the served problem+json, nothing lost, nothing renamed."""

from __future__ import annotations

import compileall
import importlib
import importlib.util
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from service.settings import Settings
from tests.conftest import TokenFactory
from tests.service.contract_fuzz import DOCUMENT
from tests.service.dashboard.browser import LiveServer

PACKAGE = "ledger_client"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    if importlib.util.find_spec("openapi_python_client") is None:
        pytest.skip("openapi-python-client is not installed (a dev dependency: make install)")
    root = tmp_path_factory.mktemp("generated")
    generator = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            DOCUMENT,
            "--meta",
            "none",
            "--output-path",
            root / PACKAGE,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert compileall.compile_dir(root / PACKAGE, quiet=1), "the generated client does not compile"
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
async def api(
    client_package: ModuleType, settings: Settings, token: TokenFactory
) -> AsyncIterator[Any]:
    root = token(sub="root", roles=("administrator",), sites=("*",), ttl_seconds=3600)
    async with (
        LiveServer(settings) as url,
        client_package.AuthenticatedClient(base_url=url, token=root) as client,
    ):
        yield client


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def assert_problem(answer: Any, status: int) -> dict[str, Any]:
    problem = _module("models.problem").Problem
    assert answer.status_code == status, answer.content
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert isinstance(answer.parsed, problem), type(answer.parsed)
    sent = json.loads(answer.content)
    # Nothing the service sent is lost or left untyped by the generated model.
    assert answer.parsed.to_dict() == sent
    assert not answer.parsed.additional_properties, answer.parsed.additional_properties
    assert answer.parsed.status == status
    return dict(sent)


async def test_the_generated_client_parses_404_409_and_422_as_the_problem_sent(api: Any) -> None:
    get_site = _module("api.sites.get_site")
    register_site = _module("api.sites.register_site")
    body_type = _module("models.register_site_body").RegisterSiteBody

    missing = await get_site.asyncio_detailed("no-such-site", client=api)
    assert_problem(missing, 404)

    facts = {
        "site_id": "client-site",
        "setup_owner": "erin",
        "production_url": "https://shop.example",
        "staging_url": "https://staging.shop.example",
        "sophmate_version": "2.4.1",
        "wordpress_version": "6.6.2",
        "php_version": "8.2",
        "active_theme": "storefront",
    }
    # The client requires every fact (the schema does); its own checks do not read patterns, so
    # a blank one reaches the service, whose refusal names it.
    refused = await register_site.asyncio_detailed(
        client=api, body=body_type(**{**facts, "active_theme": " "})
    )
    assert assert_problem(refused, 422)["missing"] == refused.parsed.missing == ["active_theme"]
    created = await register_site.asyncio_detailed(client=api, body=body_type(**facts))
    assert created.status_code == 201, created.content
    stale = await register_site.asyncio_detailed(
        client=api, body=body_type(**{**facts, "setup_owner": "sam"}), if_match='"999"'
    )
    conflict = assert_problem(stale, 409)
    assert conflict["current_version"] == stale.parsed.current_version
