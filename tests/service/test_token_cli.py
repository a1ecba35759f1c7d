"""The development-token CLI refuses roles the ledger does not know and warns about no site."""

from __future__ import annotations

import pytest

from service.cli import main


def test_an_unknown_role_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--sub", "a", "--role", "admin", "--site", "s1"])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no token
    assert "invalid choice: 'admin'" in captured.err


def test_no_site_warns_but_still_prints_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--sub", "a", "--role", "editor"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count(".") == 2  # a JWT
    assert "warning: no --site" in captured.err


def test_a_site_means_no_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--sub", "a", "--role", "editor", "--site", "s1"]) == 0
    assert capsys.readouterr().err == ""
