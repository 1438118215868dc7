import pytest

from shared.config import Settings


def test_blank_optional_settings_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # Terraform gives the api every API_JWT_* variable; a deployment without a JWKS leaves
    # them empty, which must not become an issuer of "" that every token then fails.
    blank = ("API_JWKS_URL", "API_JWT_ISSUER", "API_JWT_AUDIENCE")
    for name in (*blank, "SEND_MESSAGE_URL", "RUN_OCCURRENCE_URL"):
        monkeypatch.setenv(name, " ")
    monkeypatch.setenv("CAMPAIGNS_FUNCTIONS_URL", "http://functions.test")
    settings = Settings()
    assert settings.api_jwks_url is None
    assert settings.api_jwt_issuer is None
    assert settings.api_jwt_audience is None
    assert settings.send_message_endpoint == "http://functions.test/send_message"
    assert settings.run_occurrence_endpoint == "http://functions.test/run_occurrence"


def test_set_values_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_JWT_ISSUER", "https://issuer.example")
    assert Settings().api_jwt_issuer == "https://issuer.example"
