"""Zero-shot tagging by cosine similarity between texts and label descriptions.

Each label becomes a sentence, ``template.format(label=...)`` (default "This
issue is about {label}."), optionally followed by a description from
``descriptions``; the label vector is that sentence's embedding. A text's
scores are the cosines to the label vectors passed through a softmax with a
temperature, so single-label rows are probabilities and the decision rule
tuned on validation (top-k, threshold) works on a fixed scale.

No training is needed (``fit(texts=[], labels=[], classes=[...])``). When
labelled texts are given anyway, each label vector is blended with the
centroid of its examples: ``normalise((1 - w) * name + w * centroid)`` with
``w = prototype_weight`` (labels without examples keep their name vector).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file, save_file

from fewtag.embed.tagger import EncoderMixin, label_phrase
from fewtag.errors import ConfigError
from fewtag.methods._linear import softmax
from fewtag.methods.base import BaseTagger
from fewtag.models import DEFAULT_ENCODER
from fewtag.registry import register

__all__ = ["ZeroShotEmbedTagger", "DEFAULT_TEMPLATE"]

DEFAULT_TEMPLATE = "This issue is about {label}."


@register("zero-shot-embed")
class ZeroShotEmbedTagger(EncoderMixin, BaseTagger):
    """Cosine between text and label-sentence embeddings; no training.

    Parameters
    ----------
    model : str
        Sentence encoder: Hub id (resolved offline first) or local folder.
    max_length : int
    template : str
        Label sentence with a ``{label}`` field.
    descriptions : dict of str to str, optional
        Extra words per label, appended to its sentence.
    temperature : float
        Softmax temperature over the cosines (smaller = sharper).
    prototype_weight : float
        Weight of the centroid of labelled examples in a label vector, when
        any are given (0 ignores them).
    batch_size : int
    backend : str
        Encoder backend, one of :data:`fewtag.embed.encoder.BACKENDS`; ``"auto"``
        runs bf16 where the CPU has native bf16, fp32 elsewhere.
    long_text : {"head", "head-tail", "chunks"}
        Texts over ``max_length`` tokens: truncated, first and last tokens, or
        the mean of up to 4 windows (:mod:`fewtag.embed.long_text`).
    random_state : int
        Unused (deterministic); kept for the common protocol.

    Attributes
    ----------
    label_vectors_ : ndarray of shape (n_classes, dim), float32, unit rows

    Examples
    --------
    >>> t = ZeroShotEmbedTagger().fit([], [], classes=["bug", "feature request"])  # doctest: +SKIP
    >>> t.predict(["The app crashes when I click save"])  # doctest: +SKIP
    [['bug']]
    """

    needs_training = False

    def __init__(
        self,
        *,
        model: str = DEFAULT_ENCODER,
        max_length: int = 256,
        template: str = DEFAULT_TEMPLATE,
        descriptions: dict[str, str] | None = None,
        temperature: float = 0.05,
        prototype_weight: float = 0.5,
        batch_size: int = 64,
        backend: str = "auto",
        long_text: str = "head",
        random_state: int = 0,
    ):
        self.model = model
        self.max_length = max_length
        self.template = template
        self.descriptions = descriptions
        self.temperature = temperature
        self.prototype_weight = prototype_weight
        self.batch_size = batch_size
        self.backend = backend
        self.long_text = long_text
        self.random_state = random_state

    def label_sentences(self) -> list[str]:
        """The sentence embedded for each class, in ``classes_`` order."""
        if "{label}" not in self.template:
            raise ConfigError(f"template must contain '{{label}}'; got {self.template!r}")
        descriptions = self.descriptions or {}
        unknown = sorted(set(descriptions) - set(self.classes_))
        if unknown:
            raise ConfigError(f"descriptions name unknown labels {unknown}; labels: {', '.join(self.classes_)}")
        out = []
        for c in self.classes_:
            s = self.template.format(label=label_phrase(c))
            if descriptions.get(c):
                s = f"{s} {descriptions[c]}"
            out.append(s)
        return out

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be > 0; got {self.temperature}")
        self._record_encoder()
        vectors = self._embed(self.label_sentences()).astype(np.float64)
        w = float(self.prototype_weight)
        if texts and w > 0:
            x = self._embed(texts).astype(np.float64)
            for j in range(len(self.classes_)):
                members = np.flatnonzero(y[:, j])
                if len(members):
                    centroid = x[members].mean(axis=0)
                    centroid /= np.linalg.norm(centroid) or 1.0
                    vectors[j] = (1 - w) * vectors[j] + w * centroid
            self.metadata_["prototypes"] = "label sentences blended with class centroids"
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
        self.label_vectors_ = vectors.astype(np.float32)

    def similarities(self, texts) -> NDArray[np.float64]:
        """Raw cosines, shape ``(n_texts, n_classes)``."""
        return self._embed(texts).astype(np.float64) @ self.label_vectors_.T.astype(np.float64)

    def _scores(self, texts) -> NDArray[np.float64]:
        return softmax(self.similarities(texts) / self.temperature)

    def _save_weights(self, folder: Path) -> None:
        save_file({"label_vectors": self.label_vectors_}, str(folder / "labels.safetensors"))

    def _load_weights(self, folder: Path) -> None:
        self.label_vectors_ = load_file(str(folder / "labels.safetensors"))["label_vectors"]
