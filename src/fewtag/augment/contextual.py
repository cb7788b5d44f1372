"""Contextual substitution: a masked LM proposes replacements for random words.

Any masked-LM checkpoint works (``bert-base-uncased`` online, a local folder
offline). The words to replace are masked one at a time in a window of
``window`` words around them, so long issues cost a few short forward passes.
"""

from __future__ import annotations

import re

import numpy as np

from fewtag.augment.base import Augmenter
from fewtag.errors import MissingDependencyError

__all__ = ["ContextualAugmenter"]

_WORD = re.compile(r"^[A-Za-z]{2,}$")


class ContextualAugmenter(Augmenter):
    """Replace about ``alpha`` of the words by one of a masked LM's ``top_k`` guesses.

    Parameters
    ----------
    model : str
        Masked-LM id or folder (resolved offline first by :func:`fewtag.models.resolve_model`).
    alpha : float
        Fraction of the words replaced (at least one, at most ``max_words``).
    top_k : int
        Candidates per masked word; one is drawn at random, weighted by score.
    window : int
        Words of context kept on each side of the mask.
    max_words : int
        Most replacements per copy.
    """

    name = "contextual"

    def __init__(
        self,
        *,
        model: str = "bert-base-uncased",
        alpha: float = 0.1,
        top_k: int = 5,
        window: int = 40,
        max_words: int = 5,
    ):
        self.model = model
        self.alpha = alpha
        self.top_k = top_k
        self.window = window
        self.max_words = max_words

    def _pipeline(self):
        if getattr(self, "pipe_", None) is None:
            try:
                from transformers import pipeline
            except ImportError as exc:
                raise MissingDependencyError(
                    "transformers is needed for contextual augmentation: pip install 'fewtag[encoders]'"
                ) from exc
            from fewtag.models import resolve_model

            path = resolve_model(self.model, method="contextual augmentation")
            self.pipe_ = pipeline("fill-mask", model=str(path), tokenizer=str(path), device="cpu", top_k=self.top_k)
        return self.pipe_

    def _augment_one(self, text: str, rng: np.random.Generator) -> str:
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if _WORD.match(w)]
        if not candidates:
            return text
        pipe = self._pipeline()
        mask = pipe.tokenizer.mask_token
        n = min(self.max_words, max(1, int(round(self.alpha * len(candidates)))))
        chosen = sorted(int(candidates[int(k)]) for k in rng.permutation(len(candidates))[:n])
        for i in chosen:
            lo, hi = max(0, i - self.window), min(len(words), i + self.window + 1)
            context = words[lo:i] + [mask] + words[i + 1 : hi]
            guesses = pipe(" ".join(context), tokenizer_kwargs={"truncation": True})
            options = [(g["token_str"].strip(), float(g["score"])) for g in guesses]
            options = [(w, s) for w, s in options if w and w.lower() != words[i].lower() and _WORD.match(w)]
            if not options:
                continue
            p = np.array([s for _, s in options]) + 1e-12
            new = options[int(rng.choice(len(options), p=p / p.sum()))][0]
            words[i] = new.capitalize() if words[i][0].isupper() else new
        return " ".join(words)
