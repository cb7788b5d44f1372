"""Request and response models of the HTTP API (requests reject unknown fields)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

__all__ = [
    "PredictItem",
    "PredictRequest",
    "Prediction",
    "PredictResponse",
    "SearchRequest",
    "SearchHit",
    "SearchResponse",
    "Health",
    "Ready",
    "WebhookResult",
]

ItemId = Annotated[StrictStr | int, Field(description="The caller's id, echoed back.")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictItem(_Strict):
    """One text: ``text``, or ``title`` and/or ``body`` (joined as ``title + "\\n\\n" + body``)."""

    id: ItemId
    text: StrictStr | None = None
    title: StrictStr | None = None
    body: StrictStr | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> PredictItem:
        if self.text is not None and (self.title is not None or self.body is not None):
            raise ValueError("give either text or title/body, not both")
        if not self.joined().strip():
            raise ValueError("the item has no text: give a non-empty text, title or body")
        return self

    def record(self) -> dict[str, str]:
        """The record ``tagger.text_of`` turns into model input."""
        if self.text is not None:
            return {"text": self.text}
        return {"title": self.title or "", "body": self.body or ""}

    def joined(self) -> str:
        if self.text is not None:
            return self.text
        title, body = self.title or "", self.body or ""
        return f"{title}\n\n{body}" if title and body else title or body


class PredictRequest(_Strict):
    items: list[PredictItem] = Field(min_length=1)


class Prediction(BaseModel):
    id: StrictStr | int
    labels: list[str]
    scores: dict[str, float]
    abstained: bool
    truncated: bool = False


class PredictResponse(BaseModel):
    model: str
    predictions: list[Prediction]


class SearchRequest(_Strict):
    query: StrictStr = Field(min_length=1)
    k: int = Field(default=10, ge=1)


class SearchHit(BaseModel):
    repo: str
    id: str
    number: int | None
    title: str
    score: float
    url: str | None = None
    labels: list[str] = []


class SearchResponse(BaseModel):
    hits: list[SearchHit]


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    model: str | None
    method: str | None
    search: bool


class WebhookResult(BaseModel):
    status: str
    delivery: str | None = None
    repo: str | None = None
    number: int | None = None
    labels: list[str] = []
    added: list[str] = []
    actions: list[dict[str, Any]] = []
    dry_run: bool = False
    detail: str | None = None
