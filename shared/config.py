"""One settings object, read from the environment, decides where every client points.

When the standard emulator variables (``FIRESTORE_EMULATOR_HOST``, ``PUBSUB_EMULATOR_HOST``,
``BIGQUERY_EMULATOR_HOST``, ``CLOUD_TASKS_EMULATOR_HOST``) are absent the same code talks to real
Google Cloud with Application Default Credentials. No service or adapter reads the
environment itself.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; cached because Cloud Functions reuse warm instances."""
    return Settings()
