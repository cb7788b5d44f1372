"""k nearest neighbours on sentence embeddings with FAISS (book ch. 9).

A label is kept when at least ``m`` of the ``k`` nearest training texts carry
it. The score of a label is the fraction of the ``k`` neighbours that carry it,
so the rule "≥ m of k" is the decision threshold ``m / k``. With validation data
``(k, m)`` is grid-searched on micro F1 (``k`` up to ``max_k``, ``1 ≤ m ≤ k``),
exactly the book's procedure; single-label data picks ``k`` and keeps the
majority label (top-1).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file, save_file

from fewtag.decision import DecisionRule
from fewtag.embed.tagger import EncoderMixin
from fewtag.errors import ConfigError, MissingDependencyError
from fewtag.methods.base import BaseTagger
from fewtag.models import DEFAULT_ENCODER
from fewtag.registry import register

__all__ = ["KNNTagger"]

_EPS = 1e-9


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MissingDependencyError("faiss is needed for knn: pip install 'fewtag[encoders]'") from exc
    return faiss


@register("knn")
class KNNTagger(EncoderMixin, BaseTagger):
    """Nearest neighbours in a FAISS inner-product index of unit vectors.

    Parameters
    ----------
    model : str
        Sentence encoder: Hub id (resolved offline first) or local folder.
    max_length : int
        Tokens kept per text.
    k : int
        Neighbours used without validation data.
    m : int, optional
        Neighbours that must carry a label (multi-label) without validation
        data; default: a majority, ``k // 2 + 1``.
    max_k : int
        Largest ``k`` tried when ``(k, m)`` is tuned on validation.
    batch_size : int
    backend : str
        Encoder backend, one of :data:`fewtag.embed.encoder.BACKENDS`; ``"auto"``
        runs bf16 where the CPU has native bf16, fp32 elsewhere.
    long_text : {"head", "head-tail", "chunks"}
        Texts over ``max_length`` tokens: truncated, first and last tokens, or
        the mean of up to 4 windows (:mod:`fewtag.embed.long_text`).
    random_state : int
        Unused (kNN is deterministic); kept for the common protocol.

    Attributes
    ----------
    k_, m_ : int
        The neighbours used and the votes needed.
    vectors_ : ndarray of shape (n_train, dim), float32
    y_ : ndarray of shape (n_train, n_classes), int8

    Examples
    --------
    >>> t = KNNTagger(k=1).fit(["app crashes", "add dark mode"], ["bug", "feature"])  # doctest: +SKIP
    >>> t.predict(["it crashes"])  # doctest: +SKIP
    [['bug']]
    """

    #: the book's rule: one vote threshold ("at least m of k"), chosen with k
    default_kinds = ("threshold",)

    def __init__(
        self,
        *,
        model: str = DEFAULT_ENCODER,
        max_length: int = 256,
        k: int = 8,
        m: int | None = None,
        max_k: int = 16,
        batch_size: int = 64,
        backend: str = "auto",
        long_text: str = "head",
        random_state: int = 0,
    ):
        self.model = model
        self.max_length = max_length
        self.k = k
        self.m = m
        self.max_k = max_k
        self.batch_size = batch_size
        self.backend = backend
        self.long_text = long_text
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        if self.k < 1 or self.max_k < 1:
            raise ConfigError(f"knn needs k >= 1 and max_k >= 1; got k={self.k}, max_k={self.max_k}")
        self._record_encoder()
        self.vectors_ = self._embed(texts)
        self.y_ = np.asarray(y, dtype=np.int8)
        self._build_index()
        self.k_ = min(self.k, len(texts))
        m = self.m if self.m is not None else self.k_ // 2 + 1
        self.m_ = int(min(max(m, 1), self.k_))
        self._set_rule()

    def _build_index(self) -> None:
        faiss = _faiss()
        self.index_ = faiss.IndexFlatIP(self.vectors_.shape[1])
        self.index_.add(np.ascontiguousarray(self.vectors_, dtype=np.float32))

    def _set_rule(self) -> None:
        if self.multi_label_:
            self.decision_ = DecisionRule("threshold", threshold=self.m_ / self.k_ - _EPS, abstain=True)
        else:
            self.decision_ = DecisionRule("top-k", k=1, abstain=False)

    def _neighbours(self, x: NDArray[np.float32], k: int) -> tuple[NDArray, NDArray]:
        k = min(k, self.index_.ntotal)
        sims, idx = self.index_.search(np.ascontiguousarray(x, dtype=np.float32), k)
        return sims, idx

    def _votes(self, sims: NDArray, idx: NDArray, k: int) -> NDArray[np.float64]:
        """Fraction of the first ``k`` neighbours carrying each label.

        Single-label ties are broken by a tiny similarity-weighted bonus, and
        rows are renormalised so they sum to 1.
        """
        labels = self.y_[idx[:, :k]].astype(np.float64)  # (n, k, c)
        scores = labels.sum(axis=1) / k
        if not self.multi_label_:
            bonus = (labels * sims[:, :k, None]).sum(axis=1) * 1e-6
            scores = scores + bonus
            scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def _scores(self, texts) -> NDArray[np.float64]:
        sims, idx = self._neighbours(self._embed(texts), self.k_)
        return self._votes(sims, idx, idx.shape[1])

    # ----------------------------------------------------------------- tune
    def _candidate_scores(self, texts) -> dict[int, NDArray[np.float64]]:
        """Vote fractions for every ``k`` up to ``max_k``: tuning picks ``k`` and the vote
        threshold ``m / k`` together (the book's ``(k, m)`` search), by the decision spec."""
        sims, idx = self._neighbours(self._embed(texts), self.max_k)
        return {k: self._votes(sims, idx, k) for k in range(1, idx.shape[1] + 1)}

    def _use_candidate(self, key: int) -> None:
        self.k_ = int(key)

    def tune_scores(self, candidates, y) -> KNNTagger:
        super().tune_scores(candidates, y)
        rule = self.decision_
        if rule.kind == "threshold":  # report the rule as "at least m of k neighbours"
            self.m_ = int(min(max(np.ceil(rule.threshold * self.k_ - 1e-9), 1), self.k_))
        return self

    # ------------------------------------------------------------- save/load
    def _save_weights(self, folder: Path) -> None:
        save_file({"vectors": np.ascontiguousarray(self.vectors_), "y": self.y_}, str(folder / "knn.safetensors"))
        (folder / "knn.json").write_text(json.dumps({"k": int(self.k_), "m": int(self.m_)}))

    def _load_weights(self, folder: Path) -> None:
        w = load_file(str(folder / "knn.safetensors"))
        self.vectors_, self.y_ = w["vectors"], w["y"].astype(np.int8)
        km = json.loads((folder / "knn.json").read_text())
        self.k_, self.m_ = int(km["k"]), int(km["m"])
        self._build_index()
