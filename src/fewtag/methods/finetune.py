"""Fine-tune a transformer encoder with a classification head (book ch. 2 and ch. 9).

The encoder starts from any checkpoint (default: the offline MiniLM sentence
encoder) with a new linear head, the label names in its config and the loss
that suits the data: cross-entropy for single-label data, binary cross-entropy
on sigmoids for multi-label data. The head reads the sentence the way the
encoder was trained to give it: ``pooling="mean"`` (default) averages the token
embeddings under the attention mask, as a sentence-transformers model's
``1_Pooling`` config says; ``pooling="cls"`` is
``AutoModelForSequenceClassification`` ([CLS] through the BERT pooler, which
sentence-transformers training never updated; for checkpoints trained that way).
A small torch loop (AdamW, linear warm-up and decay, dynamic padding) trains it; the
epoch with the best validation micro-F1 is kept, and training stops after
``patience`` epochs without improvement. Multi-label thresholds are then
tuned on validation by the decision rule of :class:`BaseTagger`.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import ConfigError, ModelFileError
from fewtag.methods._hf import length_batches, pick_device, require_transformers
from fewtag.methods._linear import sigmoid, softmax
from fewtag.methods._schedule import linear_warmup_decay
from fewtag.methods.base import BaseTagger
from fewtag.metrics import fast_micro_f1 as _micro
from fewtag.models import DEFAULT_ENCODER, model_revision, resolve_model
from fewtag.progress import report
from fewtag.registry import register
from fewtag.tuning import tune_rule

__all__ = ["FineTuneTagger"]

MODEL_DIR = "model"
HEAD_FILE = "head.safetensors"
POOLINGS = ("mean", "cls")


@register("finetune")
class FineTuneTagger(BaseTagger):
    """Fine-tuned transformer classifier.

    Parameters
    ----------
    model : str
        Hub id or local folder to start from.
    epochs : int
        Most epochs to train.
    lr : float
        Peak learning rate of AdamW (linear warm-up then linear decay).
    batch_size : int
    weight_decay : float
    warmup_ratio : float
        Share of the steps spent warming up.
    min_steps : int
        Least number of optimiser steps in all: a small training set is passed
        over several times per epoch to reach it (0: one pass per epoch).
        Validation (huggingface/datasets, 8-issue slice, 3 seeds, mean pooling,
        64 tokens, ``benchmarks/finetune_val.py``): micro F1 .488 with 0, .646
        with 100.
    patience : int
        Stop after this many epochs without a better validation micro-F1.
    pooling : {"mean", "cls"}
        How the head reads the encoder: ``"mean"``, the attention-masked mean
        of the token embeddings (how sentence-transformers models are trained),
        or ``"cls"``, [CLS] through the pooler of
        ``AutoModelForSequenceClassification``. Saved with the model. Mean is
        the default by validation (huggingface/datasets, 32-issue slice, 3
        seeds, 30 steps, 64 tokens, ``benchmarks/finetune_val.py``): micro F1
        .578 vs .492, macro F1 .196 vs .133, better on every seed.
    max_length : int
        Texts are truncated to this many tokens.
    max_train_examples : int, optional
        Train on a seeded random subsample of this size (bounded CPU runs).
    max_val_examples : int, optional
        Select the epoch on a seeded random subsample of validation.
    device : str
        ``"auto"`` (GPU when available), ``"cpu"``, ``"cuda"``...
    random_state : int

    Attributes
    ----------
    model_ : transformers.PreTrainedModel or MeanPoolClassifier
        The network; ``model_.config`` is the encoder's config either way.
    tokenizer_ : transformers tokenizer
    best_epoch_ : int or None
        1-based epoch whose weights were kept (None if a loaded model did not record it).
    history_ : list of dict
        Per epoch: ``epoch``, ``steps`` (so far), ``train_loss`` and ``val_micro_f1``
        (when validation was given).

    Examples
    --------
    >>> tagger = FineTuneTagger(epochs=3).fit(texts, labels, validation=(vt, vl))  # doctest: +SKIP
    """

    #: ``fewtag train FILE`` tunes on one validation fold (slow to fit; picks its epoch on validation)
    tuning = "holdout"

    best_epoch_: int | None  # None only after loading a fewtag.json without "best_epoch"

    def __init__(
        self,
        *,
        model: str = DEFAULT_ENCODER,
        epochs: int = 3,
        lr: float = 5e-5,
        batch_size: int = 16,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
        min_steps: int = 100,
        patience: int = 2,
        pooling: str = "mean",
        max_length: int = 256,
        max_train_examples: int | None = None,
        max_val_examples: int | None = None,
        device: str = "auto",
        random_state: int = 0,
    ):
        self.model = model
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.min_steps = min_steps
        self.patience = patience
        self.pooling = pooling
        self.max_length = max_length
        self.max_train_examples = max_train_examples
        self.max_val_examples = max_val_examples
        self.device = device
        self.random_state = random_state

    # --------------------------------------------------------------- protocol
    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.min_steps < 0:
            raise ConfigError(
                f"finetune needs epochs >= 1, batch_size >= 1, lr > 0 and min_steps >= 0; "
                f"got epochs={self.epochs}, batch_size={self.batch_size}, lr={self.lr}, "
                f"min_steps={self.min_steps}"
            )
        if self.pooling not in POOLINGS:
            raise ConfigError(f"finetune's pooling must be one of {', '.join(POOLINGS)}; got {self.pooling!r}")
        torch, transformers = require_transformers(self.name)
        rng = np.random.RandomState(self.random_state)
        torch.manual_seed(self.random_state)
        folder = resolve_model(self.model, method=self.name)
        texts, y = _subsample(texts, y, self.max_train_examples, rng)
        if validation is not None:
            val_texts, val_y = validation  # BaseTagger.fit always passes a (texts, y) pair
            validation = _subsample(val_texts, val_y, self.max_val_examples, rng)
        self.device_ = pick_device(self.device)
        self.tokenizer_ = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model_ = self._new_model(transformers, folder).to(self.device_)
        enc = self._tokenize(texts)
        target = (
            torch.tensor(y, dtype=torch.float32)
            if self.multi_label_
            else torch.tensor(y.argmax(axis=1), dtype=torch.long)
        )

        decay = [p for n, p in self.model_.named_parameters() if not _no_decay(n)]
        no_decay = [p for n, p in self.model_.named_parameters() if _no_decay(n)]
        optim = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.lr,
        )
        passes = self._passes_per_epoch(len(texts))
        steps = self.epochs * passes * math.ceil(len(texts) / self.batch_size)
        warm = int(self.warmup_ratio * steps)
        sched = linear_warmup_decay(optim, warm, steps)

        self.history_: list[dict] = []
        best_f1, best_state, self.best_epoch_, waited, done = -1.0, None, self.epochs, 0, 0
        for epoch in range(1, self.epochs + 1):
            self.model_.train()
            total, count = 0.0, 0
            for idx in self._batches(len(texts), passes, rng):
                batch = self._collate(enc, idx)
                loss = self._loss(torch, self._forward(batch), target[idx].to(self.device_))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
                lr = optim.param_groups[0]["lr"]  # this step's learning rate, reported below
                optim.step()
                sched.step()
                optim.zero_grad(set_to_none=True)
                total += float(loss.detach()) * len(idx)
                count += len(idx)
                done += 1
                report("finetune", done, steps, loss=float(loss.detach()), lr=lr)
            row = {"epoch": epoch, "steps": done, "train_loss": total / max(count, 1)}
            if validation is not None:
                f1 = self._micro_f1(*validation)
                row["val_micro_f1"] = f1
                if f1 > best_f1 + 1e-9:
                    best_f1, self.best_epoch_, waited = f1, epoch, 0
                    best_state = copy.deepcopy({k: v.detach().cpu() for k, v in self.model_.state_dict().items()})
                else:
                    waited += 1
            self.history_.append(row)
            if validation is not None and waited >= self.patience:
                break
        if best_state is not None:
            self.model_.load_state_dict(best_state)
        self.model_.eval()
        self.metadata_.update(
            {
                "model_id": str(self.model),
                "model_revision": model_revision(folder),
                "best_epoch": self.best_epoch_,
                "history": self.history_,
                "pooling": self.pooling,
                "n_train": len(texts),
            }
        )

    def _scores(self, texts: list[str]) -> NDArray[np.float64]:
        logits = self.logits(texts)
        return sigmoid(logits) if self.multi_label_ else softmax(logits)

    def logits(self, texts: list[str]) -> NDArray[np.float64]:
        """Raw head outputs, shape ``(n_texts, n_classes)``; batched, longest texts first."""
        torch, _ = require_transformers(self.name)
        enc = self._tokenize(texts)
        out = np.zeros((len(texts), len(self.classes_)))
        self.model_.eval()
        with torch.inference_mode():
            for idx in length_batches([len(ids) for ids in enc["input_ids"]], self.batch_size * 2):
                out[idx] = self._forward(self._collate(enc, idx)).float().cpu().numpy()
        return out

    def _save_weights(self, folder: Path) -> None:
        target = folder / MODEL_DIR
        if self.pooling == "mean":  # the encoder as a plain checkpoint, the head beside it
            from safetensors.torch import save_file

            self.model_.encoder.save_pretrained(target, safe_serialization=True)
            head = self.model_.classifier
            save_file(
                {"weight": head.weight.detach().cpu().contiguous(), "bias": head.bias.detach().cpu().contiguous()},
                str(folder / HEAD_FILE),
            )
        else:
            self.model_.save_pretrained(target, safe_serialization=True)
        self.tokenizer_.save_pretrained(target)

    def _load_weights(self, folder: Path) -> None:
        _, transformers = require_transformers(self.name)
        source = folder / MODEL_DIR
        saved = self.metadata_.get("pooling")
        if saved is None:  # saved before ``pooling`` existed: a [CLS] classifier
            saved = "cls"
        self.pooling = saved
        if saved == "mean" and not (folder / HEAD_FILE).is_file():
            raise ModelFileError(
                f"{folder} is a mean-pooling finetune model without its {HEAD_FILE}: "
                "the folder is incomplete, train it again"
            )
        self.device_ = pick_device(self.device)
        self.tokenizer_ = transformers.AutoTokenizer.from_pretrained(source, local_files_only=True)
        if self.pooling == "mean":
            from safetensors.torch import load_file

            from fewtag.methods._mean_pool import MeanPoolClassifier

            encoder = transformers.AutoModel.from_pretrained(source, local_files_only=True)
            self.model_ = MeanPoolClassifier(encoder, len(self.classes_))
            self.model_.classifier.load_state_dict(load_file(str(folder / HEAD_FILE)))
        else:
            self.model_ = transformers.AutoModelForSequenceClassification.from_pretrained(source, local_files_only=True)
        self.model_ = self.model_.to(self.device_).eval()
        self.best_epoch_ = self.metadata_.get("best_epoch")
        self.history_ = self.metadata_.get("history", [])

    # ---------------------------------------------------------------- helpers
    def _new_model(self, transformers, folder: Path):
        """The network to train: the encoder with a new head read through ``self.pooling``."""
        problem = "multi_label_classification" if self.multi_label_ else "single_label_classification"
        config = dict(
            num_labels=len(self.classes_),
            problem_type=problem,
            id2label=dict(enumerate(self.classes_)),
            label2id={c: i for i, c in enumerate(self.classes_)},
        )
        if self.pooling == "cls":
            return transformers.AutoModelForSequenceClassification.from_pretrained(
                folder, local_files_only=True, ignore_mismatched_sizes=True, **config
            )
        from fewtag.methods._mean_pool import MeanPoolClassifier

        encoder = transformers.AutoModel.from_pretrained(folder, local_files_only=True, **config)
        return MeanPoolClassifier(encoder, len(self.classes_), seed=self.random_state)

    def _forward(self, batch: dict):
        """Logits of a collated batch, shape ``(batch, n_classes)``."""
        out = self.model_(**batch)
        return out if self.pooling == "mean" else out.logits

    def _loss(self, torch, logits, target):
        f = torch.nn.functional
        if self.multi_label_:
            return f.binary_cross_entropy_with_logits(logits, target)
        return f.cross_entropy(logits, target)

    def _passes_per_epoch(self, n_texts: int) -> int:
        """Passes over the training set per epoch, so that all epochs make ``min_steps``."""
        steps_per_pass = math.ceil(n_texts / self.batch_size)
        return max(1, math.ceil(self.min_steps / (self.epochs * steps_per_pass)))

    def _batches(self, n_texts: int, passes: int, rng: np.random.RandomState):
        """Index batches of one epoch: ``passes`` shuffled passes, a batch never spanning two."""
        for _ in range(passes):
            order = rng.permutation(n_texts)
            for start in range(0, n_texts, self.batch_size):
                yield order[start : start + self.batch_size]

    def _tokenize(self, texts: list[str]) -> dict:
        return self.tokenizer_(list(texts), truncation=True, max_length=self.max_length)

    def _collate(self, enc: dict, idx) -> dict:
        """Pad only to the longest text of the batch (dynamic padding)."""
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
        rows = [{k: enc[k][i] for k in keys} for i in idx]
        batch = self.tokenizer_.pad(rows, return_tensors="pt")
        return {k: v.to(self.device_) for k, v in batch.items()}

    def _micro_f1(self, texts: list[str], y: NDArray) -> float:
        """Validation micro-F1 of the current weights (multi-label: at the best global threshold)."""
        logits = self.logits(texts)
        if self.multi_label_:
            scores = sigmoid(logits)
            pred = tune_rule(scores, y, multi_label=True, kinds=("threshold",)).apply(scores)
        else:
            pred = np.zeros_like(logits, dtype=bool)
            pred[np.arange(len(pred)), logits.argmax(axis=1)] = True
        return float(_micro(np.asarray(y), pred))


def _no_decay(name: str) -> bool:
    return name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name


def _subsample(texts: list[str], y: NDArray, n: int | None, rng: np.random.RandomState) -> tuple[list[str], NDArray]:
    if n is None or n >= len(texts):
        return texts, y
    idx = np.sort(rng.choice(len(texts), size=int(n), replace=False))
    return [texts[i] for i in idx], y[idx]
