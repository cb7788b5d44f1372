"""Unsupervised data augmentation (UDA, Xie et al. 2020; book ch. 9 "advanced").

The loss is the supervised loss on the labelled texts plus ``consistency`` x
the KL divergence between the prediction on an unlabelled text (sharpened
with ``temperature``, no gradient) and the prediction on its augmented copy.
Only unlabelled texts predicted with confidence above ``confidence`` count
(single-label; UDA's confidence masking). The classifier is the MLP head on
frozen sentence embeddings shared with ``self-train``; augmentations come from
:mod:`fewtag.augment` (``eda`` by default; ``backtranslate`` as in the paper).
"""

from __future__ import annotations

import numpy as np

from fewtag.methods._mlp import MLPHeadMixin
from fewtag.methods.base import BaseTagger
from fewtag.models import DEFAULT_ENCODER
from fewtag.registry import register

__all__ = ["UDATagger"]


@register("uda")
class UDATagger(MLPHeadMixin, BaseTagger):
    """Supervised loss + consistency between unlabelled texts and their augmentations.

    Parameters
    ----------
    model : str
        Sentence encoder id or folder.
    max_length : int
    augment : str
        Augmenter name (``eda``, ``synonym``, ``contextual``, ``backtranslate``).
    augment_params : dict
        Augmenter options.
    consistency : float
        Weight of the consistency loss.
    temperature : float
        Sharpening of the target prediction (< 1 sharpens).
    confidence : float
        Single-label: only targets whose top probability exceeds this count.
    max_unlabelled : int
        Unlabelled texts used (seeded sample); each is augmented once.
    hidden, dropout, steps, lr, weight_decay : the MLP head
    random_state : int
    """

    #: ``fewtag train FILE`` tunes on one validation fold (slow to fit k+1 times)
    tuning = "holdout"

    def __init__(
        self,
        *,
        model: str = DEFAULT_ENCODER,
        max_length: int = 256,
        augment: str = "eda",
        augment_params: dict | None = None,
        consistency: float = 1.0,
        temperature: float = 0.4,
        confidence: float = 0.6,
        max_unlabelled: int = 1000,
        hidden: int = 256,
        dropout: float = 0.2,
        steps: int = 300,
        lr: float = 1e-3,
        weight_decay: float = 1e-2,
        batch_size: int = 64,
        random_state: int = 0,
    ):
        self.model = model
        self.max_length = max_length
        self.augment = augment
        self.augment_params = augment_params
        self.consistency = consistency
        self.temperature = temperature
        self.confidence = confidence
        self.max_unlabelled = max_unlabelled
        self.hidden = hidden
        self.dropout = dropout
        self.steps = steps
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.random_state = random_state

    def _consistency_loss(self, xu: np.ndarray, xa: np.ndarray):
        torch = self._torch()
        f = torch.nn.functional
        ut = torch.as_tensor(xu, dtype=torch.float32)
        at = torch.as_tensor(xa, dtype=torch.float32)
        stats: dict[str, list[float]] = {"masked_fraction": []}

        def loss(head, step):
            with torch.no_grad():
                head.eval()
                logits_u = head(ut) / self.temperature
                head.train()
            logits_a = head(at)
            if self.multi_label_:
                target = torch.sigmoid(logits_u)
                kl = target * (torch.log(target + 1e-8) - f.logsigmoid(logits_a)) + (1 - target) * (
                    torch.log(1 - target + 1e-8) - f.logsigmoid(-logits_a)
                )
                return self.consistency * kl.sum(dim=1).mean()
            target = torch.softmax(logits_u, dim=1)
            mask = (torch.softmax(logits_u * self.temperature, dim=1).max(dim=1).values > self.confidence).float()
            if step == self.steps - 1:
                stats["masked_fraction"].append(float(1 - mask.mean()))
            kl = (target * (torch.log(target + 1e-8) - f.log_softmax(logits_a, dim=1))).sum(dim=1)
            return self.consistency * (kl * mask).sum() / mask.sum().clamp(min=1.0)

        return loss, stats

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        from fewtag.augment import get_augmenter

        self._record_encoder()
        rng = np.random.default_rng(self.random_state)
        x = self._embed(texts)
        pool = list(dict.fromkeys(u for u in unlabelled if u.strip()))
        if len(pool) > self.max_unlabelled:
            pool = [pool[i] for i in sorted(rng.choice(len(pool), self.max_unlabelled, replace=False))]
        extra, stats = None, {}
        if pool and self.consistency > 0:
            augmenter = get_augmenter(self.augment, **(self.augment_params or {}))
            copies = augmenter.augment(pool, 1, rng)
            extra, stats = self._consistency_loss(self._embed(pool), self._embed(copies))
        self.head_ = self._train_head(x, y.astype(np.float32), seed=self.random_state, class_y=y, extra_loss=extra)
        self.metadata_["uda"] = {
            "n_unlabelled": len(pool),
            "augment": self.augment,
            "unconfident_fraction": (stats.get("masked_fraction") or [None])[-1],
        }
