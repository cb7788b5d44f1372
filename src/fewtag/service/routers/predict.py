"""``POST /v1/predict``: labels and scores for a batch of texts, in input order."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse

from fewtag.service.deps import SettingsDep, StateDep
from fewtag.service.routing import GuardedRoute
from fewtag.service.schemas import PredictRequest, PredictResponse

router = APIRouter(
    prefix="/v1",
    tags=["predict"],
    route_class=GuardedRoute,
    responses={
        401: {"description": "Missing or wrong bearer token."},
        408: {"description": "The body did not arrive in time."},
        413: {"description": "Request body too large."},
    },
)


@router.post(
    "/predict",
    response_class=JSONResponse,
    responses={200: {"model": PredictResponse, "description": "One prediction per item."}},
)
async def predict(request: PredictRequest, state: StateDep, settings: SettingsDep) -> JSONResponse:
    """Predict labels for each item (``id`` + ``text``, or ``id`` + ``title``/``body``).

    Each item becomes model input through the model's own text path
    (``tagger.text_of``: the clean-up and cut it was trained with). Texts longer
    than ``FEWTAG_MAX_TEXT_CHARS`` are then cut and flagged ``truncated``.
    Concurrent requests are scored together by the micro-batcher, off the event loop.

    The answer is a :class:`PredictResponse`, built as a plain ``JSONResponse``
    (declared so in the OpenAPI schema): skipping response-model validation is a
    measurable share of a single TF-IDF prediction's cost.
    """
    if len(request.items) > settings.max_batch:
        raise HTTPException(
            status_code=422,
            detail=(
                f"A request may hold at most {settings.max_batch} items; this one has "
                f"{len(request.items)}. Split it into smaller requests."
            ),
        )
    limit = settings.max_text_chars
    texts, truncated = [], []
    for n, item in enumerate(request.items):
        text = state.tagger.text_of(item.record(), f"items.{n}")
        truncated.append(len(text) > limit)
        texts.append(text[:limit])
    assert state.batcher is not None
    results = await state.batcher.run(texts)
    return JSONResponse(
        {
            "model": str(state.model_id),
            "predictions": [
                {"id": item.id, "labels": labels, "scores": scores, "abstained": abstained, "truncated": cut}
                for item, (labels, scores, abstained), cut in zip(request.items, results, truncated)
            ],
        }
    )
