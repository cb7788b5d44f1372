"""SetFit: contrastive fine-tuning of a sentence encoder, then a logistic head.

We run **our own loop on sentence-transformers**, not the ``setfit`` library.
setfit 1.2 runs with our sentence-transformers / transformers (its ``Trainer``
trains and predicts on a tiny local encoder), and its multi-label rule is ours
(a pair is positive when the texts share at least one label). What we avoid,
read in its source (``sampler.py``, ``trainer.py``, ``modeling.py``):

* **all-pairs memory**: ``ContrastiveDataset`` walks ``np.triu_indices(n)`` --
  all n(n+1)/2 pairs, self-pairs included -- and, with the default
  ``sampling_strategy="oversampling"`` and no ``max_steps``, keeps every pair
  (texts copied in dicts) before ``Dataset.from_list`` copies them again into
  an Arrow table: quadratic in the number of labelled texts. Our sampler
  (:mod:`fewtag.methods.setfit_sampler`) draws ``min(max_pairs, 2 *
  num_iterations * n)`` pairs, O(pairs + n);
* **a fixed shuffle seed**: ``shuffle_combinations`` orders the pairs with
  ``np.random.RandomState(seed=42)`` whatever ``TrainingArguments.seed`` says, so
  on one training set every seed trains on the same pairs in the same order;
* **a pickled head**: ``SetFitModel.save_pretrained`` writes the scikit-learn
  head with ``joblib.dump`` to ``model_head.pkl`` and loads it with
  ``joblib.load``; our model folders are safetensors + JSON and never unpickle;
* **cost per step**: its ``CosineSimilarityLoss`` runs one forward pass per
  column (``sentence_1``, ``sentence_2``), so a text in several pairs of a batch
  is encoded once per pair; our loop encodes the distinct texts of a pair batch
  once, which matters on CPU. Ours also adds label-name examples and a prior shift.

The algorithm is SetFit's: sample pairs of labelled texts, positive when they
share at least one label (multi-label) or have the same label, negative when
they share none; train the body so that the cosine of a pair matches 1 / 0
(``CosineSimilarityLoss``, i.e. MSE on cosines); then fit logistic regression
on the normalised embeddings of the fine-tuned body. With no labelled texts
(``fit([], [], classes=...)``) the label names in a few templates become the
training examples; by default (``label_templates="always"``) they are added to
real examples as well. With unlabelled texts, single-label heads are shifted to
the label priors estimated on them (``adjust_priors``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file, save_file

from fewtag.embed.encoder import Encoder
from fewtag.embed.loading import load_sentence_transformer
from fewtag.embed.tagger import EncoderMixin, label_phrase
from fewtag.errors import ConfigError, InputError
from fewtag.methods._linear import fit_linear_head, linear_scores
from fewtag.methods.base import BaseTagger
from fewtag.methods.setfit_sampler import sample_pairs
from fewtag.methods.setfit_train import train_pairs
from fewtag.models import DEFAULT_ENCODER
from fewtag.registry import register

__all__ = ["SetFitTagger", "sample_pairs", "em_priors", "DEFAULT_TEMPLATES"]

DEFAULT_TEMPLATES = ("This issue is about {label}.", "This text is about {label}.", "{label}", "It is about {label}.")
_BODY = "body"


@register("setfit")
class SetFitTagger(EncoderMixin, BaseTagger):
    """Contrastive fine-tuning of a sentence encoder + logistic-regression head.

    Parameters
    ----------
    model : str
        Sentence encoder to start from: Hub id (offline first) or folder.
    max_length : int
        Tokens kept per text (training and prediction).
    num_iterations : int
        Pairs per text and epoch are ``2 * num_iterations`` (SetFit's knob).
    max_pairs : int
        Hard cap on the pairs per epoch, whatever the data size.
    num_epochs : int
    batch_size : int
        Pairs per optimisation step (SetFit's default, 16). The distinct texts
        of a batch are embedded once per micro-batch.
    body_learning_rate : float
    warmup_ratio : float
    C : float
        Inverse regularisation of the logistic head.
    class_weight : {"balanced", None}
    label_templates : {"always", "auto", "never"}
        "always": label-name template sentences are extra training examples
        for every label; "auto": only for labels that have no labelled text
        (all of them for a zero-label start).
    templates : tuple of str
        Sentences with a ``{label}`` field used as synthetic examples.
    adjust_priors : bool
        Single-label data with ``unlabelled`` texts: estimate the label
        priors of the unlabelled texts (the mean head posterior, i.e. one EM
        step of Saerens et al. 2002) and shift the head's logits from the
        training priors to them. Few-shot slices are balanced while real data
        rarely is. One step, not full EM: a few-shot head is poorly
        calibrated and full EM overshoots.
    token_budget : int
        Padded tokens per forward pass while training: a pair batch is cut
        into micro-batches within it and their gradients accumulated, so
        memory is bounded whatever the text lengths and the effective batch
        stays ``batch_size`` pairs.
    time_budget : float, optional
        Seconds the body training may take; the learning-rate schedule is
        shortened to the steps that fit (``fewtag train --time-budget``).
    max_steps : int, optional
        Cap on optimiser steps.
    train_max_length : int, optional
        Tokens per text while training the body (default ``max_length``);
        the head and predictions use ``max_length``.
    precision : {"fp32", "bf16"}
        bf16 autocast for training (CPUs with native bf16).
    long_text : {"head", "head-tail", "chunks"}
        Texts over ``max_length`` tokens when the head is fitted and at
        prediction: truncated, first and last tokens, or the mean of up to 4
        windows (:mod:`fewtag.embed.long_text`). Training pairs use the head.
    random_state : int

    Notes
    -----
    The defaults (800 pairs of 128-token texts, 16 pairs a step, 5e-5) were
    chosen on validation parts of the four repositories' issues
    (``benchmarks/setfit_defaults.py``, figures in the README): 800 pairs
    beat 400 on every repository (mean macro F1 .751 vs .722, one seed), at
    twice the steps (50). ``fewtag train`` bounds the time with its default
    budget; peak memory stays within 3 GB (the token budget).

    Attributes
    ----------
    coef_, intercept_ : ndarray
        The head, shape ``(n_classes, dim)`` and ``(n_classes,)``.
    prior_shift_ : ndarray of shape (n_classes,)
        Added to the logits (zeros unless priors were adjusted).
    """

    #: ``fewtag train FILE`` tunes on one validation fold (slow to fit k+1 times)
    tuning = "holdout"

    def __init__(
        self,
        *,
        model: str = DEFAULT_ENCODER,
        max_length: int = 128,
        num_iterations: int = 20,
        max_pairs: int = 800,
        num_epochs: int = 1,
        batch_size: int = 16,
        body_learning_rate: float = 5e-5,
        warmup_ratio: float = 0.1,
        C: float = 1.0,
        class_weight: str | None = "balanced",
        label_templates: str = "always",
        templates: tuple[str, ...] = DEFAULT_TEMPLATES,
        adjust_priors: bool = True,
        token_budget: int = 2048,
        time_budget: float | None = None,
        max_steps: int | None = None,
        train_max_length: int | None = None,
        precision: str = "fp32",
        long_text: str = "head",
        random_state: int = 0,
    ):
        self.model = model
        self.max_length = max_length
        self.num_iterations = num_iterations
        self.max_pairs = max_pairs
        self.num_epochs = num_epochs
        self.batch_size = batch_size
        self.body_learning_rate = body_learning_rate
        self.warmup_ratio = warmup_ratio
        self.C = C
        self.class_weight = class_weight
        self.label_templates = label_templates
        self.templates = templates
        self.adjust_priors = adjust_priors
        self.token_budget = token_budget
        self.time_budget = time_budget
        self.max_steps = max_steps
        self.train_max_length = train_max_length
        self.precision = precision
        self.long_text = long_text
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _check_params(self) -> None:
        if self.label_templates not in {"auto", "always", "never"}:
            raise ConfigError(f"label_templates must be auto, always or never; got {self.label_templates!r}")
        if self.max_pairs < 1 or self.num_iterations < 1 or self.num_epochs < 0 or self.batch_size < 1:
            raise ConfigError("setfit needs max_pairs, num_iterations, batch_size >= 1 and num_epochs >= 0")
        if self.token_budget < 1 or (self.max_steps is not None and self.max_steps < 1):
            raise ConfigError("setfit needs token_budget >= 1 and max_steps >= 1 (or unset)")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ConfigError(f"setfit's time_budget must be a positive number of seconds, got {self.time_budget}")
        if self.precision not in {"fp32", "bf16"}:
            raise ConfigError(f"setfit's precision must be fp32 or bf16, got {self.precision!r}")
        if self.train_max_length is not None and self.train_max_length < 2:
            raise ConfigError(f"setfit's train_max_length must be >= 2, got {self.train_max_length}")
        if any("{label}" not in t for t in self.templates):
            raise ConfigError(f"every template needs a '{{label}}' field; got {list(self.templates)}")

    def _training_set(self, texts: list[str], y: NDArray) -> tuple[list[str], NDArray]:
        c = len(self.classes_)
        empty = np.flatnonzero(y.sum(axis=0) == 0) if len(texts) else np.arange(c)
        which = {"always": np.arange(c), "never": np.zeros(0, int), "auto": empty}[self.label_templates]
        if len(texts) == 0 and len(which) == 0:
            raise InputError("setfit got no labelled texts and label_templates='never': nothing to learn from")
        extra_t, extra_y = [], []
        for j in which:
            for tpl in self.templates:
                extra_t.append(tpl.format(label=label_phrase(self.classes_[j])))
                row = np.zeros(c, dtype=np.int8)
                row[j] = 1
                extra_y.append(row)
        if extra_t:
            self.metadata_["label_templates_used"] = [self.classes_[j] for j in which]
            texts = list(texts) + extra_t
            y = np.vstack([y.reshape(-1, c), np.asarray(extra_y, dtype=np.int8)])
        return texts, np.asarray(y, dtype=np.int8)

    def _needs_training(self, texts: list[str], labels: list[Any]) -> bool:
        """``fit([], [], classes=[...])`` starts from label-name templates (zero labelled examples)."""
        return bool(texts or labels)

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        import torch

        self._check_params()
        base = self._record_encoder()
        texts, y = self._training_set(texts, y)
        rng = np.random.default_rng(self.random_state)
        torch.manual_seed(self.random_state)
        body = load_sentence_transformer(base.path, self.max_length)
        n_pairs = int(min(self.max_pairs, 2 * self.num_iterations * len(texts)))
        epochs = [sample_pairs(y, n_pairs, rng) for _ in range(self.num_epochs)]
        if self.train_max_length is not None:
            body.max_seq_length = int(self.train_max_length)
        run = train_pairs(
            body,
            texts,
            epochs,
            batch_size=self.batch_size,
            learning_rate=self.body_learning_rate,
            warmup_ratio=self.warmup_ratio,
            token_budget=self.token_budget,
            time_budget=self.time_budget,
            max_steps=self.max_steps,
            bf16=self.precision == "bf16",
        )
        body.max_seq_length = int(self.max_length)
        self.metadata_["setfit"] = {
            "pairs_per_epoch": int(len(epochs[0][0])) if epochs else 0,
            "training_texts": len(texts),
            **run.to_dict(),
        }
        self._set_body(body)
        x = self._body_encoder.encode(texts, batch_size=64)
        self.coef_, self.intercept_ = fit_linear_head(
            x,
            y,
            multi_label=self.multi_label_,
            C=self.C,
            class_weight=self.class_weight,
            random_state=self.random_state,
        )
        self.prior_shift_ = np.zeros(len(self.classes_))
        if self.adjust_priors and not self.multi_label_ and unlabelled:
            p = self._raw_scores(unlabelled)
            train_prior = (
                np.full(len(self.classes_), 1.0 / len(self.classes_))
                if self.class_weight == "balanced"
                else (y.sum(axis=0) + 1.0) / (y.sum() + len(self.classes_))
            )
            new_prior = em_priors(p, train_prior, max_iter=1)
            self.prior_shift_ = np.log(new_prior / train_prior)
            self.metadata_["estimated_priors"] = dict(zip(self.classes_, np.round(new_prior, 4).tolist()))

    def _raw_scores(self, texts) -> NDArray[np.float64]:
        x = self._body_encoder.encode(texts, batch_size=64)
        return linear_scores(x, self.coef_, self.intercept_, multi_label=self.multi_label_)

    def _set_body(self, body, path: Path | None = None) -> None:
        base = self.metadata_.get("encoder", {})
        self._body_encoder = Encoder(
            f"setfit:{base.get('id', self.model)}",
            path or Path("."),
            body,
            self.max_length,
            revision=None,  # fine-tuned: never cached
            long_text=getattr(self, "long_text", "head"),
        )

    def _scores(self, texts) -> NDArray[np.float64]:
        x = self._body_encoder.encode(texts, batch_size=64)
        return linear_scores(x, self.coef_, self.intercept_ + self.prior_shift_, multi_label=self.multi_label_)

    def _save_weights(self, folder: Path) -> None:
        body = self._body_encoder.model
        kwargs = {"safe_serialization": True} if _accepts_safe(body.save) else {}
        body.save(str(folder / _BODY), **kwargs)  # safetensors weights + JSON configs
        save_file(
            {"coef": np.ascontiguousarray(self.coef_), "intercept": self.intercept_, "prior_shift": self.prior_shift_},
            str(folder / "head.safetensors"),
        )

    def _load_weights(self, folder: Path) -> None:
        w = load_file(str(folder / "head.safetensors"))
        self.coef_, self.intercept_ = w["coef"], w["intercept"]
        self.prior_shift_ = w.get("prior_shift", np.zeros_like(self.intercept_))
        self._set_body(load_sentence_transformer(folder / _BODY, self.max_length), folder / _BODY)


def em_priors(proba: NDArray, train_prior: NDArray, *, max_iter: int = 100, tol: float = 1e-6) -> NDArray[np.float64]:
    """Label priors of unlabelled data by EM on classifier posteriors (Saerens et al. 2002).

    Parameters
    ----------
    proba : ndarray of shape (n, n_classes)
        Posteriors under the training priors ``train_prior``.
    train_prior : ndarray of shape (n_classes,)

    Returns
    -------
    ndarray of shape (n_classes,), summing to 1

    Examples
    --------
    >>> p = np.array([[0.9, 0.1]] * 3 + [[0.2, 0.8]])
    >>> em_priors(p, np.array([0.5, 0.5])).round(2).tolist()
    [0.97, 0.03]
    """
    proba = np.asarray(proba, dtype=np.float64)
    prior = np.asarray(train_prior, dtype=np.float64).copy()
    for _ in range(max_iter):
        w = proba * (prior / train_prior)
        w /= w.sum(axis=1, keepdims=True)
        new = w.mean(axis=0).clip(1e-4)
        new /= new.sum()
        if np.abs(new - prior).max() < tol:
            return new
        prior = new
    return prior


def _accepts_safe(fn) -> bool:
    import inspect

    try:
        return "safe_serialization" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
