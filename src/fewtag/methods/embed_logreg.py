"""Frozen sentence embeddings + logistic regression (book ch. 2, approach A)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file, save_file

from fewtag.embed.tagger import EncoderMixin
from fewtag.methods._linear import fit_linear_head, linear_scores
from fewtag.methods.base import BaseTagger
from fewtag.models import DEFAULT_ENCODER
from fewtag.registry import register

__all__ = ["EmbedLogRegTagger"]


@register("embed-logreg")
class EmbedLogRegTagger(EncoderMixin, BaseTagger):
    """L2-normalised sentence embeddings (frozen encoder) + logistic regression.

    Single-label: one multinomial model (probabilities sum to 1). Multi-label:
    one binary model per label.

    Parameters
    ----------
    model : str
        Sentence encoder: Hub id (resolved offline first) or local folder.
    max_length : int
        Tokens kept per text.
    C : float
        Inverse regularisation strength (embeddings are unit vectors, so a
        larger C than sklearn's default fits better).
    class_weight : {"balanced", None}
    batch_size : int
        Encoding batch size.
    backend : str
        Encoder backend, one of :data:`fewtag.embed.encoder.BACKENDS`; ``"auto"``
        runs bf16 where the CPU has native bf16, fp32 elsewhere.
    long_text : {"head", "head-tail", "chunks"}
        Texts over ``max_length`` tokens: truncated, first and last tokens, or
        the mean of up to 4 windows (:mod:`fewtag.embed.long_text`).
    random_state : int

    Examples
    --------
    >>> t = EmbedLogRegTagger().fit(["app crashes", "add dark mode", "segfault on save",
    ...                              "support for yaml"], ["bug", "feature", "bug", "feature"])  # doctest: +SKIP
    >>> t.predict(["crash when saving"])  # doctest: +SKIP
    [['bug']]
    """

    def __init__(
        self,
        *,
        model: str = DEFAULT_ENCODER,
        max_length: int = 256,
        C: float = 10.0,
        class_weight: str | None = "balanced",
        batch_size: int = 64,
        backend: str = "auto",
        long_text: str = "head",
        random_state: int = 0,
    ):
        self.model = model
        self.max_length = max_length
        self.C = C
        self.class_weight = class_weight
        self.batch_size = batch_size
        self.backend = backend
        self.long_text = long_text
        self.random_state = random_state

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        self._record_encoder()
        x = self._embed(texts)
        self.coef_, self.intercept_ = fit_linear_head(
            x,
            y,
            multi_label=self.multi_label_,
            C=self.C,
            class_weight=self.class_weight,
            random_state=self.random_state,
        )

    def _scores(self, texts) -> NDArray[np.float64]:
        return linear_scores(self._embed(texts), self.coef_, self.intercept_, multi_label=self.multi_label_)

    def _save_weights(self, folder: Path) -> None:
        save_file(
            {"coef": np.ascontiguousarray(self.coef_), "intercept": self.intercept_}, str(folder / "head.safetensors")
        )

    def _load_weights(self, folder: Path) -> None:
        w = load_file(str(folder / "head.safetensors"))
        self.coef_, self.intercept_ = w["coef"], w["intercept"]
