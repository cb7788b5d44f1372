"""The protocol every tagging method follows, and the plumbing they share.

A method is one class that subclasses :class:`BaseTagger` and implements

* ``_fit(texts, y, validation=..., unlabelled=...)`` -- learn from texts and
  an indicator matrix ``y`` of shape ``(n_texts, n_classes)``;
* ``_scores(texts)`` -- a score matrix of shape ``(n_texts, n_classes)`` in
  ``classes_`` order (probabilities for single-label data);
* ``_save_weights(folder)`` / ``_load_weights(folder)`` -- safetensors or JSON,
  never pickle.

Validation, the fitted check, the decision rule, ``predict``, parameters
(``get_params`` / ``set_params`` / :func:`clone`), the text path
(:meth:`BaseTagger.text_of`) and the ``fewtag.json`` metadata file are written
once, here. A method that picks a hyperparameter on tuning data (kNN's ``k``)
offers candidate scores through ``_candidate_scores`` / ``_use_candidate``, so
the same tuning runs on validation scores and on out-of-fold scores.
"""

from __future__ import annotations

import copy
import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray

from fewtag._version import __version__
from fewtag.calibration import Calibration
from fewtag.data.text import TextSpec
from fewtag.decision import DecisionRule, DecisionSpec
from fewtag.errors import ConfigError, InputError, ModelFileError, NotFittedError
from fewtag.io import atomic_dir, write_json
from fewtag.labels import LabelInput, binarize, check_texts, is_multi_label, to_label_sets
from fewtag.methods.model_folder import FORMAT_VERSION, META_FILE, RESERVED, jsonable, read_model_meta
from fewtag.tuning import objective_value, tune_decision

__all__ = ["BaseTagger", "clone"]


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
    #: How ``fewtag train FILE`` tunes this method: ``"kfold"`` (out-of-fold scores,
    #: k+1 fits) or ``"holdout"`` (one stratified validation fold, for methods
    #: that are slow to fit or use validation inside ``fit``).
    tuning: ClassVar[str] = "kfold"
    #: Rule kinds tried when the spec names none (kNN keeps the book's one threshold).
    default_kinds: ClassVar[tuple[str, ...] | None] = None

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
        decision: DecisionSpec | Mapping[str, Any] | None = None,
        text: TextSpec | None = None,
    ) -> Self:
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
        decision : DecisionSpec or dict, optional
            What the decision rule is tuned for (objective, precision targets,
            top-k, abstain); saved with the model. Default ``DecisionSpec()``.
        text : TextSpec, optional
            How records became these texts; saved with the model so that
            :meth:`text_of` assembles prediction inputs the same way.

        Returns
        -------
        self

        Raises
        ------
        InputError
            Empty data, length mismatch, unknown or too few labels.
        """
        spec = DecisionSpec.coerce(decision)
        if isinstance(texts, str):
            check_texts(texts)  # raises: one string instead of a list
        texts = list(texts)
        labels = list(labels)
        needs_training = self._needs_training(texts, labels)
        if texts or needs_training:
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
            if not label_sets and needs_training:
                raise InputError("no labelled examples: the data has no rows to learn from")
            if not seen and needs_training:
                raise InputError(
                    f"none of the {len(label_sets)} examples carries a label; give each example at least one label"
                )
            raise InputError(
                f"need at least 2 labels to tag with, but the data has {len(self.classes_)} distinct "
                f"label(s): {', '.join(map(repr, self.classes_)) or 'none'}"
            )
        if len(set(self.classes_)) != len(self.classes_):
            raise InputError("duplicate names in classes")
        if needs_training and texts and not any(t.strip() for t in texts):
            raise InputError(f"all {len(texts)} training texts are empty or whitespace; nothing to learn from")
        y = binarize(label_sets, self.classes_)
        val = None
        if validation is not None:
            vtexts = check_texts(validation[0], what="validation texts")
            vsets = to_label_sets(list(validation[1]))
            if len(vtexts) != len(vsets):
                raise InputError(f"got {len(vtexts)} validation texts but {len(vsets)} labels")
            val = (vtexts, binarize(vsets, self.classes_))
        self.decision_ = (
            DecisionRule("threshold", threshold=0.5, abstain=True)
            if self.multi_label_
            else DecisionRule("top-k", k=1, abstain=False)
        )
        spec.targets(self.classes_)  # a target for an unknown label fails before any model loads
        self.decision_spec_ = spec
        self.text_spec_ = text if text is not None else self.text_of_spec()
        self.metadata_: dict[str, Any] = {}
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
        decision: DecisionSpec | Mapping[str, Any] | None = None,
    ) -> Self:
        """Tune the decision rule (and any hyperparameter the method picks) on validation texts.

        Parameters
        ----------
        texts : sequence of str
            Validation texts (never test).
        y : label lists or an indicator matrix of shape (n, n_classes)
        decision : DecisionSpec or dict, optional
            Default: the spec given to :meth:`fit`.
        """
        self._check_fitted()
        if decision is not None:
            self.decision_spec_ = DecisionSpec.coerce(decision)
        if not isinstance(y, np.ndarray):
            y = binarize(to_label_sets(list(y)), self.classes_)
        if self._nothing_to_tune():
            self.decision_ = DecisionRule("top-k", k=1, abstain=False)  # skip the scoring pass
            return self
        return self.tune_scores(self._candidate_scores(check_texts(texts)), y)

    def tune_scores(self, candidates: Mapping[Any, NDArray] | NDArray, y: NDArray) -> Self:
        """Tune from scores already computed (validation or out-of-fold).

        Parameters
        ----------
        candidates : ndarray of shape (n, n_classes), or dict of candidate key -> such an array
            One score matrix per hyperparameter candidate (see ``_candidate_scores``).
        y : ndarray of shape (n, n_classes), 0/1

        The key of the candidate adopted is kept as ``tuned_candidate_``.
        """
        self._check_fitted()
        cands = candidates if isinstance(candidates, Mapping) else {None: np.asarray(candidates)}
        spec = self.decision_spec()
        y = np.asarray(y, dtype=int)
        best: tuple[float, Any, DecisionRule] | None = None
        for key, scores in cands.items():
            rule = tune_decision(scores, y, multi_label=self.multi_label_, classes=self.classes_, spec=spec)
            value = objective_value(y, rule.apply(scores), spec.objective)
            if best is None or value > best[0] + 1e-12:
                best = (value, key, rule)
        if best is None:
            raise InputError("nothing to tune on: no candidate scores")
        if len(cands) > 1 or next(iter(cands)) is not None:
            self._use_candidate(best[1])
        self.tuned_candidate_ = best[1]
        self.decision_ = best[2]
        self.metadata_["tuning_objective_value"] = round(best[0], 6)
        return self

    def decision_spec(self) -> DecisionSpec:
        """The spec this tagger tunes for, with the method's default rule kinds filled in."""
        spec = getattr(self, "decision_spec_", None) or DecisionSpec()
        if (
            spec.kinds is None
            and self.default_kinds is not None
            and spec.precision_target is None
            and spec.objective == "micro"
        ):
            spec = DecisionSpec(**{**spec.to_dict(), "kinds": self.default_kinds})
        return spec

    def text_of(self, record: Mapping[str, Any], where: str = "record") -> str:
        """The model's input for a record (``text``, or ``title`` + ``body``), as at training time."""
        return self.text_of_spec().text_of(record, where)

    def predict_proba(self, texts: Sequence[str], *, calibrated: bool = True) -> NDArray[np.float64]:
        """Scores of shape ``(n_texts, n_classes)`` in ``classes_`` order.

        With a calibration saved in the model (:mod:`fewtag.calibration`, fitted on out-of-fold
        or validation scores) the scores are calibrated unless ``calibrated=False``.
        """
        self._check_fitted()
        texts = check_texts(texts)
        scores = np.asarray(self._scores(texts), dtype=np.float64)
        if scores.shape != (len(texts), len(self.classes_)):
            raise RuntimeError(
                f"{type(self).__name__}._scores returned shape {scores.shape}, "
                f"expected {(len(texts), len(self.classes_))}"
            )
        cal = self.calibration() if calibrated else None
        return cal.apply(scores) if cal is not None else scores

    def calibration(self) -> Calibration | None:
        """The calibration saved with the model (``fewtag.json`` key ``calibration``), or ``None``."""
        data = getattr(self, "metadata_", {}).get("calibration")
        if not data:
            return None
        cached = getattr(self, "_calibration_cache", None)
        if cached is None or cached[0] is not data:
            cached = (data, Calibration.from_dict(data))
            self._calibration_cache = cached
        return cached[1]

    def set_calibration(self, calibration: Calibration | None) -> Self:
        """Keep ``calibration`` with the model (``None`` removes it); :meth:`predict_proba` applies it."""
        self._check_fitted()
        if calibration is None:
            self.metadata_.pop("calibration", None)
        else:
            self.metadata_["calibration"] = calibration.to_dict()
        return self

    def predict_indicator(self, texts: Sequence[str]) -> NDArray[np.bool_]:
        """Boolean matrix of shape ``(n_texts, n_classes)`` after the decision rule."""
        scores = self.predict_proba(texts)  # the fitted check comes first
        return self.decision_.apply(scores)

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        """Label list per text (empty when the tagger abstains)."""
        chosen = self.predict_indicator(texts)
        return [[self.classes_[j] for j in np.flatnonzero(row)] for row in chosen]

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """Constructor arguments, as stored by ``__init__`` (scikit-learn's contract).

        ``deep`` is accepted for scikit-learn compatibility; members are plain values here.

        Raises
        ------
        TypeError
            A constructor argument is not stored under its own name (a bug in the method).
        """
        missing = [p for p in self._param_names() if not hasattr(self, p)]
        if missing:
            raise TypeError(
                f"{type(self).__name__}.__init__ does not store {', '.join(missing)} "
                "under the same name; get_params would drop them"
            )
        return {p: getattr(self, p) for p in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set constructor arguments; unknown names are a ``ConfigError`` listing the valid ones."""
        valid = self._param_names()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ConfigError(
                f"{self.name} has no parameter {', '.join(unknown)}; its parameters: {', '.join(valid) or 'none'}"
            )
        for key, value in params.items():
            setattr(self, key, value)
        return self

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
                "params": jsonable(self.get_params()),
                "classes": list(self.classes_),
                "multi_label": self.multi_label_,
                "decision": self.decision_.to_dict(),
                "decision_spec": self.decision_spec_.to_dict() if hasattr(self, "decision_spec_") else None,
                "text": self.text_of_spec().to_dict(),
                **jsonable(self.metadata_),
            }
            write_json(tmp / META_FILE, meta)
        return path

    @classmethod
    def load(cls, path: str | Path, *, encoder_backend: str | None = None) -> BaseTagger:
        """Load a model folder written by :meth:`save` for this method.

        :func:`fewtag.registry.load_tagger` loads a folder of any method.

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
            The folder or its ``fewtag.json`` is missing, corrupt or inconsistent, or
            it holds a model of another method.
        InputError
            ``encoder_backend`` is given for a method without a choice of backend.
        """
        path = Path(path)
        meta = read_model_meta(path)
        if cls is BaseTagger or meta["method"] != cls.name:
            raise ModelFileError(
                f"{path} holds a {meta['method']} model, not {cls.name}; load it with fewtag.registry.load_tagger"
            )
        params = dict(meta.get("params", {}))
        names = set(cls._param_names())
        if encoder_backend is not None:
            if "backend" not in names:
                raise InputError(
                    f"method {cls.name} has no encoder backend to choose (knn, embed-logreg and zero-shot-embed have)"
                )
            from fewtag.embed.encoder import check_backend

            params["backend"] = check_backend(encoder_backend)
        unknown = sorted(set(params) - names)
        if unknown:
            raise ModelFileError(
                f"corrupt model folder {path}: {META_FILE} has parameters {', '.join(unknown)} "
                f"that method {cls.name} does not take (written by another fewtag version?)"
            )
        try:
            tagger = cls(**params)
        except (ValueError, TypeError) as exc:
            raise ModelFileError(f"corrupt model folder {path}: {META_FILE}: {exc}") from exc
        tagger._restore_meta(meta)
        try:
            tagger._load_weights(path)
        except Exception as exc:  # safetensors, torch and JSON readers raise their own types
            raise ModelFileError(f"cannot load the weights in {path}: {exc}") from exc
        tagger.fitted_ = True
        return tagger

    def text_of_spec(self) -> TextSpec:
        """The text settings saved with this model."""
        return getattr(self, "text_spec_", None) or TextSpec()

    def _restore_meta(self, meta: Mapping[str, Any]) -> None:
        """Set the learned state that ``fewtag.json`` holds (checked by :func:`read_model_meta`)."""
        self.classes_ = list(meta["classes"])
        self.multi_label_ = bool(meta["multi_label"])
        self.decision_ = DecisionRule.from_dict(meta["decision"])
        self.decision_spec_ = DecisionSpec.from_dict(meta.get("decision_spec"))
        self.text_spec_ = TextSpec.from_dict(meta["text"]) if meta.get("text") is not None else TextSpec()
        self.metadata_ = {k: v for k, v in meta.items() if k not in RESERVED}

    # ------------------------------------------------------------------ hooks
    def _needs_training(self, texts: list[str], labels: list[Any]) -> bool:
        """Whether this ``fit`` call must get labelled texts; the class's :attr:`needs_training` by default.

        A method that can also start without examples (setfit from label-name
        templates) answers per call, so the class attribute stays constant.
        """
        return self.needs_training

    def _nothing_to_tune(self) -> bool:
        """True when tuning cannot change anything (single-label top-1, no options): skip scoring."""
        spec = self.decision_spec()
        return (
            not self.multi_label_
            and spec.precision_target is None
            and spec.top_k is None
            and not spec.abstain
            and type(self)._candidate_scores is BaseTagger._candidate_scores
        )

    def _candidate_scores(self, texts: list[str]) -> dict[Any, NDArray[np.float64]]:
        """Score matrices of ``texts`` for each value of a hyperparameter the method tunes.

        The default is one candidate (``None``): the tagger's scores. kNN returns one
        matrix per ``k``. Out-of-fold tuning concatenates these over folds.
        """
        return {None: self.predict_proba(texts)}

    def _use_candidate(self, key: Any) -> None:
        """Adopt the candidate ``key`` of :meth:`_candidate_scores` (only called with several)."""
        return None  # optional hook: nothing to do by default

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
        return None  # optional hook: nothing to do by default

    def _load_weights(self, folder: Path) -> None:
        """Read what :meth:`_save_weights` wrote."""
        return None  # optional hook: nothing to do by default

    # ---------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit() or load a saved model")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def clone(tagger: BaseTagger) -> BaseTagger:
    """An unfitted copy with the same parameters (scikit-learn's ``clone``)."""
    return type(tagger)(**copy.deepcopy(tagger.get_params()))
