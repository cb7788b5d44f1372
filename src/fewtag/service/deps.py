"""What routers depend on: the service state, the settings and bearer auth."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from fewtag.service.batcher import MicroBatcher
from fewtag.service.metrics import Metrics
from fewtag.service.settings import ServiceSettings, get_settings
from fewtag.service.webhook import DeliveryLog, LabelWriter

__all__ = ["ServiceState", "StateDep", "SettingsDep", "require_token", "check_token", "get_state", "resolve_settings"]


@dataclass
class ServiceState:
    """Everything loaded once in the lifespan."""

    settings: ServiceSettings
    metrics: Metrics
    tagger: Any = None
    model_id: str | None = None
    batcher: MicroBatcher | None = None
    store: Any = None
    searcher: Any = None
    search_error: str | None = None
    search_lock: threading.Lock = field(default_factory=threading.Lock)
    store_lock: threading.Lock = field(default_factory=threading.Lock)
    deliveries: DeliveryLog | None = None
    writer: LabelWriter | None = None
    worker: Any = None
    can_write: bool = False
    ready: bool = False


def get_state(request: Request) -> ServiceState:
    return request.app.state.fewtag


StateDep = Annotated[ServiceState, Depends(get_state)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]


def resolve_settings(request: Request) -> ServiceSettings:
    """The settings a ``Depends(get_settings)`` would give this request (overrides included)."""
    provider = request.app.dependency_overrides.get(get_settings, get_settings)
    return provider()


def check_token(request: Request, settings: ServiceSettings) -> None:
    """Bearer auth on ``/v1/*`` when ``FEWTAG_API_TOKEN`` is set (constant-time compare).

    Called by :class:`fewtag.service.routing.GuardedRoute` before the body is read,
    so an unauthenticated client learns nothing about its body (401, never 422).
    """
    if settings.api_token is None:
        return
    expected = settings.api_token.get_secret_value().encode()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode("utf-8", "replace"), expected)
    ):
        raise HTTPException(
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
            detail="A valid bearer token is required: send the header "
            "'Authorization: Bearer <token>' with the token set in FEWTAG_API_TOKEN.",
        )


def require_token(request: Request, settings: SettingsDep) -> None:
    """The same check as a dependency (for routes that do not use ``GuardedRoute``)."""
    check_token(request, settings)
