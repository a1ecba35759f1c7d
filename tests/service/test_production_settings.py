"""Production configuration: secrets from files, and every problem of a start listed at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main
from service.settings import ConfigurationRefused, load_settings

# Random once (a production start refuses regular values such as 40 times "s").
JWT_SECRET = "_CIJR2KmO6t08hrfnNAWD4Om7tCXZnL3sgzMEdYNzWIPQIFS"
PLAYBOOK_KEY = "099Va3IrRSdlmA3CdJTtUXVP3dUX36rF_rHaWVZ8JpA"
LOG_KEY = "wdkL1jIPq3J5O1TEFuTTx_Iu3EFW_Sk1t36Sz51YX7k"
KEK = "zz-JG3qmfuAgqAeTYSyWN6j6RnE-cJsmBbWmpRIS1_Q"
GOOD = {
    "LEDGER_ENV": "production",
    "LEDGER_DATABASE_URL": "postgresql://ledger_app@db/ledger",
    "LEDGER_JWT_SECRET": JWT_SECRET,
    "LEDGER_PLAYBOOK_SIGNING_KEY": PLAYBOOK_KEY,
    "LEDGER_LOG_SIGNING_KEY": LOG_KEY,
    "LEDGER_SECRET_KEK": KEK,
}


def test_production_start_with_several_things_missing_lists_them_all_once() -> None:
    environ = {"LEDGER_ENV": "production", "LEDGER_PORT": "eighty", "LEDGER_JWT_SECRET": "short"}
    with pytest.raises(ConfigurationRefused) as refused:
        load_settings(environ)
    problems = refused.value.problems
    assert sorted(p.split()[0].rstrip(":") for p in problems) == [
        "LEDGER_DATABASE_URL",
        "LEDGER_JWT_SECRET",
        "LEDGER_LOG_SIGNING_KEY",
        "LEDGER_PLAYBOOK_SIGNING_KEY",
        "LEDGER_PORT",
        "LEDGER_SECRET_KEK",
    ]
    text = str(refused.value)
    assert "eighty" not in text
    assert "short" not in text
    assert "validation error" not in text  # no pydantic dump


def test_the_cli_prints_the_list_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.settings import get_settings

    monkeypatch.setenv("LEDGER_ENV", "production")
    required = (
        "LEDGER_DATABASE_URL",
        "LEDGER_JWT_SECRET",
        "LEDGER_PLAYBOOK_SIGNING_KEY",
        "LEDGER_LOG_SIGNING_KEY",
        "LEDGER_SECRET_KEK",
    )
    for name in required:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        assert main(["migrate"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert err.startswith("configuration refused: 5 problem(s):\n")
    for name in required:
        assert err.count(name) == 1
    assert "Traceback" not in err


def test_secrets_come_from_files_named_by_file_variables(tmp_path: Path) -> None:
    secret = tmp_path / "jwt"
    secret.write_text(JWT_SECRET[::-1] + "\n")  # as `echo` writes it
    environ = {**GOOD, "LEDGER_JWT_SECRET_FILE": str(secret)}
    del environ["LEDGER_JWT_SECRET"]
    assert load_settings(environ).jwt_secret == JWT_SECRET[::-1]


def test_secrets_come_from_a_mounted_secrets_folder(tmp_path: Path) -> None:
    (tmp_path / "LEDGER_DATABASE_URL").write_text("postgresql://from-secret@db/ledger")
    (tmp_path / "LEDGER_PLAYBOOK_SIGNING_KEY").write_text(PLAYBOOK_KEY)
    environ = {
        "LEDGER_ENV": "production",
        "LEDGER_JWT_SECRET": JWT_SECRET,
        "LEDGER_LOG_SIGNING_KEY": LOG_KEY,
        "LEDGER_SECRET_KEK": KEK,
        "LEDGER_SECRETS_DIR": str(tmp_path),
    }
    settings = load_settings(environ)
    assert settings.database_url == "postgresql://from-secret@db/ledger"
    assert settings.playbook_signing_key == PLAYBOOK_KEY


def test_an_unreadable_or_doubly_given_secret_is_a_listed_problem(tmp_path: Path) -> None:
    environ = {
        **GOOD,
        "LEDGER_JWT_SECRET_FILE": str(tmp_path / "absent"),
        "LEDGER_PLAYBOOK_SIGNING_KEY_FILE": str(tmp_path / "absent-too"),
    }
    del environ["LEDGER_PLAYBOOK_SIGNING_KEY"]
    with pytest.raises(ConfigurationRefused) as refused:
        load_settings(environ)
    assert refused.value.problems[:2] == [
        "LEDGER_JWT_SECRET and LEDGER_JWT_SECRET_FILE are both set: keep one",
        "LEDGER_PLAYBOOK_SIGNING_KEY_FILE names a file that cannot be read",
    ]
    assert "LEDGER_PLAYBOOK_SIGNING_KEY must be set in production" in refused.value.problems


def test_a_complete_production_configuration_starts() -> None:
    assert load_settings(GOOD).env == "production"


def test_an_owner_url_without_the_runtime_url_is_refused_not_the_embedded_server() -> None:
    environ = {"LEDGER_MIGRATION_DATABASE_URL": "postgresql://ledger_owner@db/ledger"}
    with pytest.raises(ConfigurationRefused) as refused:
        load_settings(environ)
    assert refused.value.problems == [
        "LEDGER_MIGRATION_DATABASE_URL is set but LEDGER_DATABASE_URL is not: "
        "set it to the same database"
    ]
