"""What routers depend on: the service state, the settings and bearer auth."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from fewtag.service.batcher import MicroBatcher
from fewtag.service.metrics import Metrics
from fewtag.service.settings import ServiceSettings
from fewtag.service.webhook import DeliveryLog, LabelWriter

__all__ = ["ServiceState", "StateDep", "SettingsDep", "require_token", "get_state"]


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
    can_write: bool = False
    ready: bool = False


def get_state(request: Request) -> ServiceState:
    return request.app.state.fewtag


def get_service_settings(request: Request) -> ServiceSettings:
    return request.app.state.fewtag.settings


StateDep = Annotated[ServiceState, Depends(get_state)]
SettingsDep = Annotated[ServiceSettings, Depends(get_service_settings)]


def require_token(request: Request, settings: SettingsDep) -> None:
    """Bearer auth on ``/v1/*`` when ``FEWTAG_API_TOKEN`` is set (constant-time compare)."""
    if settings.api_token is None:
        return
    expected = settings.api_token.get_secret_value().encode()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise HTTPException(
            status_code=401, headers={"WWW-Authenticate": "Bearer"},
            detail="A valid bearer token is required: send the header "
                   "'Authorization: Bearer <token>' with the token set in FEWTAG_API_TOKEN.")
