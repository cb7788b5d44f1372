"""Service settings: environment variables with the ``FEWTAG_`` prefix.

=============================  ===========================================================
``FEWTAG_MODEL``               model folder to serve (``fewtag serve MODEL`` sets it)
``FEWTAG_ENCODER_BACKEND``     run the model's sentence encoder on ``torch``,
                               ``torch-bf16``, ``onnx`` or ``onnx-int8`` (default: as trained)
``FEWTAG_STORE``               store whose search index answers ``/v1/search``; also
                               remembers webhook deliveries
``FEWTAG_API_TOKEN``           when set, ``/v1/*`` needs ``Authorization: Bearer <token>``
``FEWTAG_WEBHOOK_SECRET``      the GitHub webhook secret; the webhook answers 503 without it
``FEWTAG_ALLOW_WEAK_SECRET``   accept a token or secret shorter than 16 characters
``FEWTAG_DRY_RUN``             webhook logs its label plan without writing to GitHub
``FEWTAG_GITHUB_TOKEN``        token for label write-back (``GITHUB_TOKEN`` also read)
``FEWTAG_GITHUB_API_URL``      GitHub API base (a test server in tests)
``FEWTAG_MAX_BODY_BYTES``      larger request bodies get 413
``FEWTAG_MAX_BATCH``           more items per request get 422
``FEWTAG_MAX_TEXT_CHARS``      longer texts are cut, and flagged ``truncated``
``FEWTAG_BATCH_MAX_SIZE``      micro-batcher: texts per model call
``FEWTAG_BATCH_MAX_WAIT_MS``   micro-batcher: longest wait for more requests (adaptive:
                               a quarter of the recent model-call time, at most this)
``FEWTAG_WEBHOOK_QUEUE``       webhook write-backs waiting at most (more get 503)
``FEWTAG_WEBHOOK_ATTEMPTS``    write-back attempts per delivery
``FEWTAG_WEBHOOK_BUDGET_S``    seconds all attempts of one write-back may take
``FEWTAG_TIMEOUT_KEEP_ALIVE``  seconds an idle keep-alive connection stays open
``FEWTAG_HEADER_TIMEOUT``      seconds a client has to send a request's headers
``FEWTAG_BODY_TIMEOUT``        seconds a client has to send a request's body (408 after)
``FEWTAG_LIMIT_CONCURRENCY``   connections and requests at once; more get 503
``FEWTAG_MAX_HEADER_BYTES``    largest request head (h11's ``max_incomplete_event_size``)
``FEWTAG_TIMEOUT_GRACEFUL_SHUTDOWN``  seconds in-flight requests get on shutdown
=============================  ===========================================================

Secrets: an empty or whitespace-only ``FEWTAG_API_TOKEN`` or ``FEWTAG_WEBHOOK_SECRET``,
one with spaces around it, or one shorter than :data:`MIN_SECRET_CHARS` characters
(unless ``allow_weak_secret``) is refused by :func:`check_secrets`, which
:func:`~fewtag.service.create_app` and ``fewtag serve`` call before anything starts.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from fewtag.errors import ConfigError

__all__ = ["ServiceSettings", "get_settings", "check_secrets", "check_secret", "MIN_SECRET_CHARS"]

#: the shortest token or webhook secret accepted without ``allow_weak_secret``
MIN_SECRET_CHARS = 16


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
        default=None, validation_alias=AliasChoices("FEWTAG_GITHUB_TOKEN", "GITHUB_TOKEN")
    )
    github_api_url: str | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_batch: int = Field(default=64, ge=1)
    max_text_chars: int = Field(default=20_000, ge=1)
    max_k: int = Field(default=50, ge=1)
    batch_max_size: int = Field(default=64, ge=1)
    batch_max_wait_ms: float = Field(default=2.0, ge=0)
    delivery_memory: int = Field(default=10_000, ge=1)
    allow_weak_secret: bool = False
    webhook_queue: int = Field(default=100, ge=1)
    webhook_attempts: int = Field(default=3, ge=1)
    webhook_budget_s: float = Field(default=9.0, gt=0)
    timeout_keep_alive: int = Field(default=5, ge=1)
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=30.0, gt=0)
    limit_concurrency: int = Field(default=256, ge=1)
    max_header_bytes: int = Field(default=16_384, ge=1024)
    timeout_graceful_shutdown: int = Field(default=10, ge=0)


@lru_cache
def get_settings() -> ServiceSettings:
    """Settings read once from the environment.

    Routers take them as ``Depends(get_settings)``; ``create_app(settings)`` installs
    its settings as ``app.dependency_overrides[get_settings]``, and tests may override
    them the same way.
    """
    return ServiceSettings()


def check_secrets(settings: ServiceSettings) -> None:
    """Refuse a configured but unusable ``FEWTAG_API_TOKEN`` or ``FEWTAG_WEBHOOK_SECRET``.

    Unset is fine (no bearer auth; the webhook answers 503). Set but empty,
    whitespace only, with spaces around it, or shorter than
    :data:`MIN_SECRET_CHARS` (unless ``allow_weak_secret``) raises
    :class:`~fewtag.errors.ConfigError` naming the variable.

    >>> check_secrets(ServiceSettings(api_token="x" * 16))
    >>> check_secrets(ServiceSettings(api_token=""))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fewtag.errors.ConfigError: FEWTAG_API_TOKEN is set but empty; unset it or set a random value ...
    """
    for var, secret in (("FEWTAG_API_TOKEN", settings.api_token), ("FEWTAG_WEBHOOK_SECRET", settings.webhook_secret)):
        if secret is not None:
            check_secret(var, secret.get_secret_value(), allow_weak=settings.allow_weak_secret)


def check_secret(var: str, value: str, *, allow_weak: bool = False) -> None:
    """Refuse a set secret that is empty, whitespace only, has spaces around it, or is shorter than
    :data:`MIN_SECRET_CHARS` (unless ``allow_weak``): one :class:`~fewtag.errors.ConfigError` naming ``var``.

    The one rule for every secret fewtag takes (the service's token and webhook secret,
    ``FEWTAG_ANNOTATE_TOKEN``).

    >>> check_secret("FEWTAG_API_TOKEN", "x" * 16)
    """
    advice = f"unset it or set a random value of at least {MIN_SECRET_CHARS} characters (e.g. `openssl rand -hex 32`)"
    if not value.strip():
        what = "empty" if not value else "only whitespace"
        raise ConfigError(f"{var} is set but {what}; {advice}")
    if value != value.strip():
        raise ConfigError(f"{var} has spaces or a newline around it; remove them (the value is compared exactly)")
    if len(value) < MIN_SECRET_CHARS and not allow_weak:
        raise ConfigError(
            f"{var} has {len(value)} characters, fewer than {MIN_SECRET_CHARS}; "
            f"use a longer random value (e.g. `openssl rand -hex 32`), or pass "
            f"--allow-weak-secret (FEWTAG_ALLOW_WEAK_SECRET=1) to accept it"
        )
