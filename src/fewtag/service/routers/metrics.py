"""``GET /metrics``: Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from fewtag.service.deps import StateDep
from fewtag.service.metrics import CONTENT_TYPE

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(state: StateDep) -> PlainTextResponse:
    """Request counts, latency histograms, batch sizes and the model id."""
    return PlainTextResponse(state.metrics.render(), media_type=CONTENT_TYPE)
