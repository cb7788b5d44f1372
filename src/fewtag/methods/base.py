"""The protocol every tagging method follows, and the plumbing they share.

A method is one class that subclasses :class:`BaseTagger` and implements

* ``_fit(texts, y, validation=..., unlabelled=...)`` -- learn from texts and
  an indicator matrix ``y`` of shape ``(n_texts, n_classes)``;
* ``_scores(texts)`` -- a score matrix of shape ``(n_texts, n_classes)`` in
  ``classes_`` order (probabilities for single-label data);
* ``_save_weights(folder)`` / ``_load_weights(folder)`` -- safetensors or JSON,
  never pickle.

Validation, the fitted check, the decision rule, ``predict`` and the
``fewtag.json`` metadata file are written once, here.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from fewtag import __version__
from fewtag.decision import DecisionRule, tune_rule
from fewtag.errors import InputError, ModelFileError, NotFittedError
from fewtag.io import atomic_dir, read_json, write_json
from fewtag.labels import LabelInput, binarize, check_texts, is_multi_label, to_label_sets

__all__ = ["BaseTagger", "META_FILE", "load_tagger"]

META_FILE = "fewtag.json"
FORMAT_VERSION = 1


class BaseTagger(ABC):
    """Base class of all taggers.

    Subclasses store their keyword arguments in ``__init__`` (same attribute
    names, no work) and implement the hooks listed in the module docstring.

    Attributes
    ----------
    classes_ : list of str
        Label names; the column order of every score matrix.
    multi_label_ : bool
    decision_ : DecisionRule
        Turns scores into labels; tuned on validation when given to ``fit``.
    metadata_ : dict
        Extra facts saved in ``fewtag.json`` (encoder id, metrics, fingerprint).
    """

    name: ClassVar[str] = "base"
    #: False for zero-shot methods: ``fit`` then accepts no texts at all.
    needs_training: ClassVar[bool] = True

    # ----------------------------------------------------------------- public
    def fit(
        self,
        texts: Sequence[str],
        labels: LabelInput,
        *,
        classes: Sequence[str] | None = None,
        multi_label: bool | None = None,
        validation: tuple[Sequence[str], LabelInput] | None = None,
        unlabelled: Sequence[str] | None = None,
    ) -> "BaseTagger":
        """Learn from labelled texts.

        Parameters
        ----------
        texts : sequence of str, length n
        labels : sequence of str (single-label) or of label lists (multi-label), length n
        classes : sequence of str, optional
            All label names, in column order. Default: the sorted labels seen.
            Pass it when a small training slice may miss some labels.
        multi_label : bool, optional
            Default: multi-label when ``labels`` holds lists.
        validation : (texts, labels), optional
            Used for early stopping / hyperparameter choice by some methods, and
            to tune the decision rule.
        unlabelled : sequence of str, optional
            Texts without labels, for methods that can use them.

        Returns
        -------
        self

        Raises
        ------
        InputError
            Empty data, length mismatch, unknown or too few labels.
        """
        if isinstance(texts, str):
            check_texts(texts)  # raises: one string instead of a list
        texts = list(texts)
        labels = list(labels)
        if texts or self.needs_training:
            texts = check_texts(texts)
        if len(texts) != len(labels):
            raise InputError(f"got {len(texts)} texts but {len(labels)} labels")
        self.multi_label_ = is_multi_label(labels) if multi_label is None else bool(multi_label)
        label_sets = to_label_sets(labels)
        if not self.multi_label_ and any(len(s) != 1 for s in label_sets):
            raise InputError("single-label data needs exactly one label per text")
        seen = sorted({lab for s in label_sets for lab in s})
        self.classes_ = list(classes) if classes is not None else seen
        if len(self.classes_) < 2:
            raise InputError(
                f"need at least 2 labels to tag with, got {len(self.classes_)}: {self.classes_}"
            )
        if len(set(self.classes_)) != len(self.classes_):
            raise InputError("duplicate names in classes")
        y = binarize(label_sets, self.classes_)
        val = None
        if validation is not None:
            vtexts = check_texts(validation[0], what="validation texts")
            vsets = to_label_sets(list(validation[1]))
            if len(vtexts) != len(vsets):
                raise InputError(f"got {len(vtexts)} validation texts but {len(vsets)} labels")
            val = (vtexts, binarize(vsets, self.classes_))
        self.decision_ = DecisionRule("threshold", threshold=0.5, abstain=True) if self.multi_label_ \
            else DecisionRule("top-k", k=1, abstain=False)
        self.metadata_ = {}
        self._fit(texts, y, validation=val, unlabelled=list(unlabelled or []))
        self.fitted_ = True
        if val is not None:
            self.tune(*val)
        return self

    def tune(
        self,
        texts: Sequence[str],
        y: LabelInput | NDArray,
        *,
        kinds: tuple[str, ...] | None = None,
        precision_target: float | None = None,
        objective: str = "micro",
    ) -> "BaseTagger":
        """Tune the decision rule on validation texts (never on test).

        ``objective`` is ``"micro"`` (default) or ``"macro"``: see
        :func:`fewtag.decision.tune_rule`.
        """
        self._check_fitted()
        if not self.multi_label_ and precision_target is None:
            self.decision_ = DecisionRule("top-k", k=1, abstain=False)  # nothing to tune: skip the pass
            return self
        if not isinstance(y, np.ndarray):
            y = binarize(to_label_sets(list(y)), self.classes_)
        scores = self.predict_proba(texts)
        self.decision_ = tune_rule(
            scores, y, multi_label=self.multi_label_, kinds=kinds, precision_target=precision_target,
            objective=objective,
        )
        return self

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Scores of shape ``(n_texts, n_classes)`` in ``classes_`` order."""
        self._check_fitted()
        texts = check_texts(texts)
        scores = np.asarray(self._scores(texts), dtype=np.float64)
        if scores.shape != (len(texts), len(self.classes_)):
            raise RuntimeError(
                f"{type(self).__name__}._scores returned shape {scores.shape}, "
                f"expected {(len(texts), len(self.classes_))}"
            )
        return scores

    def predict_indicator(self, texts: Sequence[str]) -> NDArray[np.bool_]:
        """Boolean matrix of shape ``(n_texts, n_classes)`` after the decision rule."""
        scores = self.predict_proba(texts)  # the fitted check comes first
        return self.decision_.apply(scores)

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        """Label list per text (empty when the tagger abstains)."""
        chosen = self.predict_indicator(texts)
        return [[self.classes_[j] for j in np.flatnonzero(row)] for row in chosen]

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, as stored by ``__init__``."""
        sig = inspect.signature(type(self).__init__)
        return {
            p: getattr(self, p)
            for p in sig.parameters
            if p != "self" and sig.parameters[p].kind is not inspect.Parameter.VAR_KEYWORD
            and hasattr(self, p)
        }

    def save(self, path: str | Path) -> Path:
        """Write a self-describing model folder; it appears whole or not at all."""
        self._check_fitted()
        path = Path(path)
        with atomic_dir(path, kind="model") as tmp:
            self._save_weights(tmp)
            meta = {
                "format_version": FORMAT_VERSION,
                "fewtag_version": __version__,
                "method": self.name,
                "params": _jsonable(self.get_params()),
                "classes": list(self.classes_),
                "multi_label": self.multi_label_,
                "decision": self.decision_.to_dict(),
                **_jsonable(self.metadata_),
            }
            write_json(tmp / META_FILE, meta)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "BaseTagger":
        """Load a model folder written by :meth:`save` (for any method)."""
        return load_tagger(path)

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _fit(
        self,
        texts: list[str],
        y: NDArray[np.int8],
        *,
        validation: tuple[list[str], NDArray[np.int8]] | None,
        unlabelled: list[str],
    ) -> None:
        """Learn from ``texts`` and the indicator matrix ``y``."""

    @abstractmethod
    def _scores(self, texts: list[str]) -> NDArray[np.float64]:
        """Score matrix of shape ``(len(texts), len(self.classes_))``."""

    def _save_weights(self, folder: Path) -> None:
        """Write learned state into ``folder`` (safetensors / JSON)."""

    def _load_weights(self, folder: Path) -> None:
        """Read what :meth:`_save_weights` wrote."""

    # ---------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit() or load a saved model"
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so numpy scalars and tuples become plain values."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def load_tagger(path: str | Path, *, encoder_backend: str | None = None) -> BaseTagger:
    """Load any saved model folder.

    Parameters
    ----------
    path : str or Path
    encoder_backend : str, optional
        Run the model's sentence encoder on this backend instead of the one it
        was trained with (e.g. ``"onnx-int8"`` for serving); see
        :data:`fewtag.embed.encoder.BACKENDS`.

    Raises
    ------
    ModelFileError
        The folder or its ``fewtag.json`` is missing or corrupt.
    InputError
        ``encoder_backend`` is given for a method without a choice of backend.
    """
    from fewtag.registry import get_method

    path = Path(path)
    meta_path = path / META_FILE
    if not path.is_dir():
        raise ModelFileError(f"model folder {path} does not exist")
    if not meta_path.is_file():
        raise ModelFileError(f"{path} is not a fewtag model: {META_FILE} is missing")
    try:
        meta = read_json(meta_path)
        cls = get_method(meta["method"])
        params = dict(meta.get("params", {}))
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{meta_path} is corrupt: {exc}") from exc
    if encoder_backend is not None:
        params["backend"] = _checked_backend(cls, encoder_backend)
    try:
        tagger = cls(**params)
        tagger.classes_ = list(meta["classes"])
        tagger.multi_label_ = bool(meta["multi_label"])
        tagger.decision_ = DecisionRule.from_dict(meta["decision"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{meta_path} is corrupt: {exc}") from exc
    reserved = {"format_version", "fewtag_version", "method", "params", "classes", "multi_label", "decision"}
    tagger.metadata_ = {k: v for k, v in meta.items() if k not in reserved}
    try:
        tagger._load_weights(path)
    except Exception as exc:  # safetensors, torch and JSON readers raise their own types
        raise ModelFileError(f"cannot load the weights in {path}: {exc}") from exc
    tagger.fitted_ = True
    return tagger


def _checked_backend(cls: type, backend: str) -> str:
    from fewtag.embed.encoder import check_backend
    from fewtag.pipeline import constructor_parameters

    if "backend" not in constructor_parameters(cls.name):
        raise InputError(f"method {cls.name} has no encoder backend to choose "
                         "(knn, embed-logreg and zero-shot-embed have)")
    return check_backend(backend)
