"""``GET /healthz`` (the process answers) and ``GET /readyz`` (the model is loaded)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from fewtag.service.deps import StateDep
from fewtag.service.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses={503: {"model": Ready}})
async def readyz(state: StateDep) -> JSONResponse:
    """Readiness: the model is loaded and the batcher runs."""
    ok = state.ready and state.batcher is not None and state.batcher.alive
    body = Ready(
        status="ready" if ok else "not ready",
        model=state.model_id,
        method=getattr(state.tagger, "name", None),
        search=state.searcher is not None,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
