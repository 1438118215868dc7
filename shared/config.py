"""One settings object, read from the environment, decides where every client points.

When the standard emulator variables (``FIRESTORE_EMULATOR_HOST``, ``PUBSUB_EMULATOR_HOST``,
``BIGQUERY_EMULATOR_HOST``, ``CLOUD_TASKS_EMULATOR_HOST``) are absent the same code talks to real
Google Cloud with Application Default Credentials. No service or adapter reads the
environment itself.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    google_cloud_project: str = Field(default="demo-campaigns", alias="GOOGLE_CLOUD_PROJECT")
    region: str = Field(default="southamerica-east1", alias="CAMPAIGNS_REGION")

    firestore_emulator_host: str | None = Field(default=None, alias="FIRESTORE_EMULATOR_HOST")
    pubsub_emulator_host: str | None = Field(default=None, alias="PUBSUB_EMULATOR_HOST")
    bigquery_emulator_host: str | None = Field(default=None, alias="BIGQUERY_EMULATOR_HOST")
    cloud_tasks_emulator_host: str | None = Field(default=None, alias="CLOUD_TASKS_EMULATOR_HOST")

    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    functions_url: str = Field(
        default="http://127.0.0.1:8081",
        alias="CAMPAIGNS_FUNCTIONS_URL",
        description="base URL under which each function is served as /<name>",
    )
    send_message_url: str | None = Field(
        default=None, alias="SEND_MESSAGE_URL", description="default: <functions_url>/send_message"
    )
    run_occurrence_url: str | None = Field(
        default=None,
        alias="RUN_OCCURRENCE_URL",
        description="default: <functions_url>/run_occurrence",
    )
    tasks_invoker_service_account: str | None = Field(
        default=None,
        alias="TASKS_INVOKER_SERVICE_ACCOUNT",
        description="service account whose OIDC token Cloud Tasks sends to send_message",
    )

    whatsapp_api_base_url: str = Field(
        default="https://graph.facebook.com", alias="WHATSAPP_API_BASE_URL"
    )
    whatsapp_api_version: str = Field(default="v21.0", alias="WHATSAPP_API_VERSION")
    whatsapp_phone_number_id: str = Field(
        default="",
        alias="WHATSAPP_PHONE_NUMBER_ID",
        description="the number used by tenants that configured none",
    )
    whatsapp_business_account_id: str = Field(
        default="",
        alias="WHATSAPP_BUSINESS_ACCOUNT_ID",
        description="the WhatsApp Business account (WABA) of tenants that configured none",
    )
    whatsapp_access_token: SecretStr = Field(default=SecretStr(""), alias="WHATSAPP_ACCESS_TOKEN")
    whatsapp_app_secret: SecretStr = Field(default=SecretStr(""), alias="WHATSAPP_APP_SECRET")
    whatsapp_verify_token: SecretStr = Field(default=SecretStr(""), alias="WHATSAPP_VERIFY_TOKEN")

    api_jwt_secret: SecretStr = Field(
        default=SecretStr(""),
        alias="API_JWT_SECRET",
        description="HS256 key of locally minted API tokens; unset in production (JWKS instead)",
    )
    api_jwks_url: str | None = Field(
        default=None,
        alias="API_JWKS_URL",
        description="RS256 key set of the identity provider; wins over the secret",
    )
    api_jwt_issuer: str | None = Field(default=None, alias="API_JWT_ISSUER")
    api_jwt_audience: str | None = Field(default=None, alias="API_JWT_AUDIENCE")
    link_secret: SecretStr = Field(
        default=SecretStr(""),
        alias="LINK_SECRET",
        description="HMAC key of tracked links (send_message signs, api checks); unset: none",
    )
    link_base_url: str | None = Field(
        default=None,
        alias="LINK_BASE_URL",
        description="public base of the api function (tracked links); default <functions_url>/api",
    )
    api_requests_per_minute: int = Field(
        default=120, ge=1, alias="API_REQUESTS_PER_MINUTE", description="per user (token subject)"
    )

    @field_validator(
        "send_message_url",
        "run_occurrence_url",
        "tasks_invoker_service_account",
        "api_jwks_url",
        "api_jwt_issuer",
        "api_jwt_audience",
        "link_base_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """Terraform sets every variable a function may use; an empty one means "not used"."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def send_message_endpoint(self) -> str:
        return self.send_message_url or f"{self.functions_url.rstrip('/')}/send_message"

    @property
    def link_base(self) -> str:
        return self.link_base_url or f"{self.functions_url.rstrip('/')}/api"

    @property
    def run_occurrence_endpoint(self) -> str:
        return self.run_occurrence_url or f"{self.functions_url.rstrip('/')}/run_occurrence"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; cached because Cloud Functions reuse warm instances."""
    return Settings()
