"""``POST /v1/search``: the issues nearest to a free-text query."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from fewtag.service.deps import SettingsDep, StateDep
from fewtag.service.routing import GuardedRoute
from fewtag.service.schemas import SearchHit, SearchRequest, SearchResponse

router = APIRouter(
    prefix="/v1",
    tags=["search"],
    route_class=GuardedRoute,
    responses={
        401: {"description": "Missing or wrong bearer token."},
        503: {"description": "No search index configured."},
    },
)


@router.post("/search", response_model=SearchResponse)
async def search(request: SearchRequest, state: StateDep, settings: SettingsDep) -> SearchResponse:
    """Semantic search over the store's indexed issues (cosine scores)."""
    if state.searcher is None:
        raise HTTPException(status_code=503, detail=f"Search is unavailable: {state.search_error}.")
    if request.k > settings.max_k:
        raise HTTPException(status_code=422, detail=(f"k may be at most {settings.max_k}; got {request.k}."))
    if not request.query.strip():
        raise HTTPException(status_code=422, detail="The search query is empty; send some text.")
    query = request.query[: settings.max_text_chars]

    def run() -> list:
        with state.search_lock:
            return state.searcher.query(query, request.k)

    hits = await run_in_threadpool(run)
    return SearchResponse(hits=[SearchHit(**h.to_dict()) for h in hits])
