"""``POST /v1/predict``: labels and scores for a batch of texts, in input order."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse

from fewtag.service.deps import SettingsDep, StateDep, require_token
from fewtag.service.schemas import PredictRequest, PredictResponse

router = APIRouter(prefix="/v1", tags=["predict"], dependencies=[Depends(require_token)],
                   responses={401: {"description": "Missing or wrong bearer token."},
                              413: {"description": "Request body too large."}})


@router.post("/predict", response_model=PredictResponse)
async def predict(request: PredictRequest, state: StateDep, settings: SettingsDep) -> JSONResponse:
    """Predict labels for each item (``id`` + ``text``, or ``id`` + ``title``/``body``).

    Texts longer than the limit are cut and flagged ``truncated``. Concurrent
    requests are scored together by the micro-batcher, off the event loop.
    """
    if len(request.items) > settings.max_batch:
        raise HTTPException(status_code=422, detail=(
            f"A request may hold at most {settings.max_batch} items; this one has "
            f"{len(request.items)}. Split it into smaller requests."))
    limit = settings.max_text_chars
    texts, truncated = [], []
    for item in request.items:
        text = item.joined()
        truncated.append(len(text) > limit)
        texts.append(text[:limit])
    assert state.batcher is not None
    results = await state.batcher.run(texts)
    # built by hand (the shape of PredictResponse): skipping response-model validation
    # is a measurable share of a single tfidf prediction's cost
    return JSONResponse({"model": str(state.model_id), "predictions": [
        {"id": item.id, "labels": labels, "scores": scores, "abstained": abstained, "truncated": cut}
        for item, (labels, scores, abstained), cut in zip(request.items, results, truncated)]})
