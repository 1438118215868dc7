"""``campaigns token`` mints a token the running API accepts, from the environment or the stack."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
import requests

from shared.cli.main import main as cli
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import LOCAL_WHATSAPP
from tests.integration import api_fixtures

api_url = api_fixtures.api_url

STACK_SECRET = LOCAL_WHATSAPP["API_JWT_SECRET"]


def _mint(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out.strip()


def test_the_token_is_accepted_by_the_api_with_its_claims(
    api_url: str, new_cnpj: Cnpj, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["token", "--cnpj", new_cnpj.value, "--role", "editor", "--subject", "joana"]
    token = _mint([*argv, "--ttl-minutes", "5"], capsys)
    claims = jwt.decode(token, STACK_SECRET, algorithms=["HS256"])
    assert (claims["cnpj"], claims["role"], claims["sub"]) == (new_cnpj.value, "editor", "joana")
    assert abs(claims["exp"] - (time.time() + 300)) < 30

    answer = requests.get(
        f"{api_url}/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"cnpj": new_cnpj.value, "subject": "joana", "role": "editor"}


def test_defaults_are_an_admin_local_user_for_an_hour(
    api_url: str, new_cnpj: Cnpj, capsys: pytest.CaptureFixture[str]
) -> None:
    formatted = f"{new_cnpj.value[:2]}.{new_cnpj.value[2:5]}.{new_cnpj.value[5:8]}/" + (
        f"{new_cnpj.value[8:12]}-{new_cnpj.value[12:]}"
    )
    claims = jwt.decode(
        _mint(["token", "--cnpj", formatted], capsys), STACK_SECRET, algorithms=["HS256"]
    )
    assert (claims["cnpj"], claims["role"], claims["sub"]) == (
        new_cnpj.value,
        "admin",
        "local-user",
    )
    assert abs(claims["exp"] - (time.time() + 3600)) < 30


def test_without_the_environment_the_stack_s_env_file_is_used(
    new_cnpj: Cnpj,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("API_JWT_SECRET", raising=False)
    secret = "a-secret-only-in-the-stack-env-file-0123456789"
    (tmp_path / "env").write_text(f"export API_JWT_SECRET={secret}\n")
    token = _mint(["--state-dir", str(tmp_path), "token", "--cnpj", new_cnpj.value], capsys)
    assert jwt.decode(token, secret, algorithms=["HS256"])["cnpj"] == new_cnpj.value


def test_no_secret_anywhere_is_a_clear_error(
    new_cnpj: Cnpj,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("API_JWT_SECRET", raising=False)
    assert cli(["--state-dir", str(tmp_path), "token", "--cnpj", new_cnpj.value]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "API_JWT_SECRET is not set" in captured.err and "stack up" in captured.err


def test_bad_arguments_are_refused(new_cnpj: Cnpj, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["token", "--cnpj", "11.222.333/0001-82"]) == 2
    assert "cnpj: check digits do not match" in capsys.readouterr().err
    for argv in (
        ["token", "--cnpj", new_cnpj.value, "--role", "owner"],
        ["token", "--cnpj", new_cnpj.value, "--ttl-minutes", "0"],
        ["token", "--cnpj", new_cnpj.value, "--ttl-minutes", "soon"],
        ["token"],
    ):
        with pytest.raises(SystemExit) as exited:
            cli(argv)
        assert exited.value.code == 2, argv
        assert capsys.readouterr().out == ""
