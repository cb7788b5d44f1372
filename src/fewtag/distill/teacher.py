"""The teacher of a distillation: a trained fewtag model folder or a plain sentence encoder.

:func:`load_teacher` gives a :class:`Teacher` with the two things a student
learns from: unit-length embeddings (whose pair cosines the student's body
reproduces) and, when the teacher is a tagger, its decisions (the labels the
student's head is also fitted to).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import ConfigError, ModelFileError, ModelNotFoundError
from fewtag.methods.base import BaseTagger
from fewtag.methods.model_folder import META_FILE

__all__ = ["Teacher", "load_teacher"]


@dataclass
class Teacher:
    """What a student learns from.

    Attributes
    ----------
    source : str
        The folder or encoder id given.
    encoder : Encoder
        The teacher's sentence encoder (a setfit tagger's fine-tuned body).
    tagger : BaseTagger or None
        The teacher model, when ``source`` is a fewtag model folder.
    """

    source: str
    encoder: Any
    tagger: BaseTagger | None = None
    _memo: dict[str, NDArray[np.float32]] = field(default_factory=dict, repr=False)

    @property
    def dim(self) -> int:
        return int(self.encoder.dim)

    def describe(self) -> dict[str, Any]:
        """The facts ``fewtag.json`` records about the teacher."""
        info: dict[str, Any] = {"source": self.source, "dim": self.dim, "max_length": self.encoder.max_length}
        if self.tagger is not None:
            info["method"] = self.tagger.name
            info["encoder"] = self.tagger.metadata_.get("encoder", {}).get("id")
        else:
            info["encoder"] = self.encoder.model_id
        return info

    def embed(self, texts: list[str], show_progress: bool = False) -> NDArray[np.float32]:
        """Unit-length teacher embeddings of shape ``(len(texts), dim)``; each text is encoded once."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if todo:
            vectors = self.encoder.encode(todo, batch_size=64, show_progress=show_progress)
            self._memo.update(zip(todo, vectors))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self._memo[t]
        return out

    def predict_indicator(self, texts: list[str]) -> NDArray[np.bool_]:
        """The teacher's decisions, shape ``(len(texts), n_classes)``, reusing the embeddings already made.

        Raises
        ------
        ConfigError
            The teacher is a plain encoder (it has no head).
        """
        if self.tagger is None:
            raise ConfigError(f"teacher {self.source} is a plain sentence encoder: it has no labels to teach")
        self.embed(texts)
        original = self.encoder.encode
        memo = self._memo

        def cached(batch, batch_size=64, show_progress=False):
            batch = list(batch)
            missing = [t for t in batch if t not in memo]
            if missing:
                memo.update(zip(missing, original(missing, batch_size=batch_size)))
            return np.stack([memo[t] for t in batch]) if batch else original(batch)

        self.encoder.encode = cached  # the tagger encodes through this instance: serve the memo
        try:
            return self.tagger.predict_indicator(texts)
        finally:
            del self.encoder.encode  # back to the class's method


def _tagger_encoder(tagger: BaseTagger, source: str) -> Any:
    body = getattr(tagger, "_body_encoder", None)  # setfit: the fine-tuned body
    if body is not None:
        return body
    from fewtag.embed.tagger import EncoderMixin

    if isinstance(tagger, EncoderMixin):
        return tagger._encoder()
    raise ConfigError(
        f"teacher {source} is a {tagger.name} model, which has no sentence encoder to distil; "
        "give a setfit, embed-logreg or knn model folder, or a sentence encoder id"
    )


def load_teacher(source: str | Path, max_length: int = 256) -> Teacher:
    """Load the teacher named by ``source``.

    Parameters
    ----------
    source : str or Path
        A fewtag model folder (``fewtag train ... --out DIR``), or a sentence
        encoder id or folder.
    max_length : int
        Tokens per text for a plain encoder (a model folder keeps its own).

    Returns
    -------
    Teacher

    Raises
    ------
    ModelNotFoundError
        ``source`` is neither a folder nor an encoder available offline.
    ModelFileError
        The folder holds a broken model.
    ConfigError
        The model has no sentence encoder (tf-idf, naive Bayes, ...).
    """
    text = str(source)
    path = Path(text).expanduser()
    if (path / META_FILE).is_file():
        from fewtag.registry import load_tagger

        tagger = load_tagger(path)
        return Teacher(text, _tagger_encoder(tagger, text), tagger)
    if not path.exists() and (text.startswith((".", "/", "~")) or path.suffix):
        raise ModelNotFoundError(f"teacher folder {text} does not exist")
    if path.is_dir() and not any((path / f).is_file() for f in ("modules.json", "config.json")):
        raise ModelFileError(f"teacher {text} is neither a fewtag model folder ({META_FILE}) nor a sentence encoder")
    from fewtag.embed.encoder import get_encoder

    return Teacher(text, get_encoder(text, max_length, method="distill"))
