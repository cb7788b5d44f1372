"""Service settings: environment variables with the ``FEWTAG_`` prefix.

=============================  ===========================================================
``FEWTAG_MODEL``               model folder to serve (``fewtag serve MODEL`` sets it)
``FEWTAG_ENCODER_BACKEND``     run the model's sentence encoder on ``torch``,
                               ``torch-bf16``, ``onnx`` or ``onnx-int8`` (default: as trained)
``FEWTAG_STORE``               store whose search index answers ``/v1/search``; also
                               remembers webhook deliveries
``FEWTAG_API_TOKEN``           when set, ``/v1/*`` needs ``Authorization: Bearer <token>``
``FEWTAG_WEBHOOK_SECRET``      the GitHub webhook secret; the webhook answers 503 without it
``FEWTAG_DRY_RUN``             webhook logs its label plan without writing to GitHub
``FEWTAG_GITHUB_TOKEN``        token for label write-back (``GITHUB_TOKEN`` also read)
``FEWTAG_GITHUB_API_URL``      GitHub API base (a test server in tests)
``FEWTAG_MAX_BODY_BYTES``      larger request bodies get 413
``FEWTAG_MAX_BATCH``           more items per request get 422
``FEWTAG_MAX_TEXT_CHARS``      longer texts are cut, and flagged ``truncated``
``FEWTAG_BATCH_MAX_SIZE``      micro-batcher: texts per model call
``FEWTAG_BATCH_MAX_WAIT_MS``   micro-batcher: longest wait for more requests (adaptive:
                               a quarter of the recent model-call time, at most this)
=============================  ===========================================================
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings", "get_settings"]


class ServiceSettings(BaseSettings):
    """Settings of ``fewtag serve`` (see the module docstring for the variables)."""

    model_config = SettingsConfigDict(env_prefix="FEWTAG_", extra="ignore")

    model: str | None = None
    encoder_backend: str | None = None
    store: str | None = None
    api_token: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    dry_run: bool = False
    github_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("FEWTAG_GITHUB_TOKEN", "GITHUB_TOKEN"))
    github_api_url: str | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_batch: int = Field(default=64, ge=1)
    max_text_chars: int = Field(default=20_000, ge=1)
    max_k: int = Field(default=50, ge=1)
    batch_max_size: int = Field(default=64, ge=1)
    batch_max_wait_ms: float = Field(default=2.0, ge=0)
    delivery_memory: int = Field(default=10_000, ge=1)


@lru_cache
def get_settings() -> ServiceSettings:
    """Settings read once from the environment (override in tests with ``create_app(settings)``)."""
    return ServiceSettings()
