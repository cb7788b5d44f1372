"""Uncertainty-aware self-training (UST, Mukherjee & Awadallah 2020; book ch. 9 "advanced").

A teacher -- a small MLP with dropout on frozen sentence embeddings -- is
trained on the labelled texts. It predicts the unlabelled texts ``mc_passes``
times with dropout on (MC dropout); BALD (the mutual information between the
prediction and the weights) measures how unsure the teacher really is. The
texts with the lowest BALD get pseudo-labels, weighted by the stability of the
prediction, and a student is trained on labelled + pseudo-labelled texts. The
student becomes the teacher; ``n_iter`` rounds. With ``n_iter=0`` the tagger
is the teacher alone (the baseline self-training is compared with).

The MLP head code here is shared with ``uda``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fewtag.decision import tune_rule
from fewtag.embed.tagger import EncoderMixin
from fewtag.errors import MissingDependencyError
from fewtag.io import read_json, write_json
from fewtag.methods.base import BaseTagger
from fewtag.models import DEFAULT_ENCODER
from fewtag.registry import register

__all__ = ["SelfTrainTagger", "MLPHeadMixin", "bald"]

_EPS = 1e-12


def bald(probs: NDArray, multi_label: bool) -> tuple[NDArray, NDArray]:
    """BALD score and mean prediction from MC-dropout probabilities.

    Parameters
    ----------
    probs : ndarray of shape (passes, n, n_classes)
    multi_label : bool
        Multi-label: independent Bernoulli labels, BALD summed over labels.

    Returns
    -------
    (bald of shape (n,), mean probabilities of shape (n, n_classes))

    >>> p = np.array([[[0.9, 0.1]], [[0.1, 0.9]]])  # two passes that disagree
    >>> round(float(bald(p, False)[0][0]), 3) > round(float(bald(p[:1].repeat(2, 0), False)[0][0]), 3)
    True
    """
    mean = probs.mean(axis=0)
    if multi_label:
        def ent(p):
            return -(p * np.log(p + _EPS) + (1 - p) * np.log(1 - p + _EPS))
        return (ent(mean) - ent(probs).mean(axis=0)).sum(axis=1), mean
    h_mean = -(mean * np.log(mean + _EPS)).sum(axis=1)
    h_each = -(probs * np.log(probs + _EPS)).sum(axis=2).mean(axis=0)
    return h_mean - h_each, mean


class MLPHeadMixin(EncoderMixin):
    """An MLP with dropout on frozen, cached sentence embeddings (torch)."""

    model: str
    hidden: int
    dropout: float
    steps: int
    lr: float
    weight_decay: float
    random_state: int

    def _torch(self):
        try:
            import torch
        except ImportError as exc:
            raise MissingDependencyError(f"torch is needed for {self.name}: pip install 'fewtag[encoders]'") \
                from exc
        torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
        return torch

    def _new_head(self, dim: int, n_classes: int, seed: int):
        torch = self._torch()
        torch.manual_seed(seed)
        nn = torch.nn
        return nn.Sequential(nn.Dropout(self.dropout), nn.Linear(dim, self.hidden), nn.GELU(),
                             nn.Dropout(self.dropout), nn.Linear(self.hidden, n_classes))

    def _class_weights(self, y: NDArray) -> NDArray:
        """Balanced weights (single-label) or positive weights per label (multi-label)."""
        counts = y.sum(axis=0).astype(float)
        if self.multi_label_:
            neg = len(y) - counts
            return np.clip(neg / np.maximum(counts, 1.0), 1.0, 10.0)
        present = counts > 0
        w = np.ones(y.shape[1])
        w[present] = len(y) / (present.sum() * counts[present])
        return w

    def _loss(self, logits, targets, weights, class_w):
        torch = self._torch()
        f = torch.nn.functional
        if self.multi_label_:
            per = f.binary_cross_entropy_with_logits(logits, targets, pos_weight=class_w,
                                                     reduction="none").mean(dim=1)
        else:
            per = -(targets * f.log_softmax(logits, dim=1) * class_w).sum(dim=1)
        return (per * weights).sum() / weights.sum()

    def _train_head(self, x: NDArray, targets: NDArray, weights: NDArray | None = None, *,
                    seed: int, class_y: NDArray, extra_loss=None):
        """Full-batch AdamW for ``self.steps`` steps; returns the head in eval mode."""
        torch = self._torch()
        head = self._new_head(x.shape[1], targets.shape[1], seed)
        xt = torch.as_tensor(x, dtype=torch.float32)
        tt = torch.as_tensor(targets, dtype=torch.float32)
        wt = torch.as_tensor(np.ones(len(x)) if weights is None else weights, dtype=torch.float32)
        cw = torch.as_tensor(self._class_weights(class_y), dtype=torch.float32)
        opt = torch.optim.AdamW(head.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        head.train()
        for step in range(self.steps):
            loss = self._loss(head(xt), tt, wt, cw)
            if extra_loss is not None:
                loss = loss + extra_loss(head, step)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return head.eval()

    def _probs(self, head, x: NDArray, *, passes: int = 0, seed: int = 0) -> NDArray:
        """Probabilities ``(n, c)``, or ``(passes, n, c)`` with MC dropout when ``passes > 0``."""
        torch = self._torch()
        xt = torch.as_tensor(x, dtype=torch.float32)
        act = torch.sigmoid if self.multi_label_ else (lambda z: torch.softmax(z, dim=1))
        with torch.no_grad():
            if not passes:
                head.eval()
                return act(head(xt)).double().numpy()
            torch.manual_seed(seed)
            head.train()
            try:
                return np.stack([act(head(xt)).double().numpy() for _ in range(passes)])
            finally:
                head.eval()

    def _val_f1(self, head, validation) -> float | None:
        if validation is None:
            return None
        from fewtag.metrics import fast_micro_f1 as _micro

        scores = self._probs(head, self._embed(validation[0]))
        rule = tune_rule(scores, validation[1], multi_label=self.multi_label_)
        return float(_micro(validation[1].astype(int), rule.apply(scores)))

    # ------------------------------------------------------------- protocol
    def _scores(self, texts) -> NDArray[np.float64]:
        return self._probs(self.head_, self._embed(texts))

    def _save_weights(self, folder: Path) -> None:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in self.head_.state_dict().items()},
                  str(folder / "head.safetensors"))
        write_json(folder / "head.json", {"dim": int(self.head_[1].in_features),
                                          "n_classes": int(self.head_[4].out_features)})

    def _load_weights(self, folder: Path) -> None:
        from safetensors.torch import load_file

        shape = read_json(folder / "head.json")
        self.head_ = self._new_head(shape["dim"], shape["n_classes"], 0)
        self.head_.load_state_dict(load_file(str(folder / "head.safetensors")))
        self.head_.eval()


@register("self-train")
class SelfTrainTagger(MLPHeadMixin, BaseTagger):
    """Uncertainty-aware self-training on frozen sentence embeddings.

    Parameters
    ----------
    model : str
        Sentence encoder id or folder (an ``fewtag adapt`` output works).
    max_length : int
    n_iter : int
        Self-training rounds (0: the teacher only).
    mc_passes : int
        MC-dropout forward passes per unlabelled text.
    n_select : int, optional
        Pseudo-labelled texts per round (default: 4 x labelled, at least 64);
        single-label data takes them class-balanced.
    pseudo_weight : float
        Loss weight of a pseudo-labelled text relative to a labelled one (scaled
        by the stability of its MC-dropout prediction).
    max_unlabelled : int
        At most this many unlabelled texts are scored (seeded sample).
    hidden, dropout, steps, lr, weight_decay : the MLP head
    keep_best : bool
        With validation data, keep the round with the best validation micro F1
        (the teacher when no student beats it).
    random_state : int

    Examples
    --------
    >>> t = SelfTrainTagger(n_iter=2).fit(texts, labels, unlabelled=unlabelled)  # doctest: +SKIP
    >>> t.metadata_["self_train"]["rounds"]  # doctest: +SKIP
    """

    def __init__(self, *, model: str = DEFAULT_ENCODER, max_length: int = 256, n_iter: int = 3,
                 mc_passes: int = 10, n_select: int | None = None, pseudo_weight: float = 0.5,
                 max_unlabelled: int = 5000, hidden: int = 256, dropout: float = 0.2, steps: int = 300,
                 lr: float = 1e-3, weight_decay: float = 1e-2, keep_best: bool = True,
                 batch_size: int = 64, random_state: int = 0):
        self.model = model
        self.max_length = max_length
        self.n_iter = n_iter
        self.mc_passes = mc_passes
        self.n_select = n_select
        self.pseudo_weight = pseudo_weight
        self.max_unlabelled = max_unlabelled
        self.hidden = hidden
        self.dropout = dropout
        self.steps = steps
        self.lr = lr
        self.weight_decay = weight_decay
        self.keep_best = keep_best
        self.batch_size = batch_size
        self.random_state = random_state

    def _select(self, probs: NDArray, n: int, rng: np.random.Generator) -> tuple[NDArray, NDArray, NDArray]:
        """Indices, hard pseudo-labels and weights of the ``n`` most certain texts (lowest BALD)."""
        score, mean = bald(probs, self.multi_label_)
        if self.multi_label_:
            hard = (mean > 0.5).astype(np.float32)
            stab = 1.0 - 2.0 * probs.std(axis=0).mean(axis=1)
            order = np.lexsort((rng.random(len(score)), score))[:n]
        else:
            pseudo = mean.argmax(axis=1)
            hard = np.eye(mean.shape[1], dtype=np.float32)[pseudo]
            stab = 1.0 - 2.0 * probs.std(axis=0)[np.arange(len(pseudo)), pseudo]
            per_class = max(1, n // mean.shape[1])
            order_list = []
            for c in range(mean.shape[1]):  # class-balanced, as UST
                idx = np.flatnonzero(pseudo == c)
                idx = idx[np.lexsort((rng.random(len(idx)), score[idx]))][:per_class]
                order_list.append(idx)
            order = np.concatenate(order_list).astype(int)
        weights = self.pseudo_weight * np.clip(stab[order], 0.05, 1.0)
        return order, hard[order], weights

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        self._record_encoder()
        rng = np.random.default_rng(self.random_state)
        x = self._embed(texts)
        yf = y.astype(np.float32)
        head = self._train_head(x, yf, seed=self.random_state, class_y=y)
        rounds = [{"round": 0, "pseudo": 0, "val_micro_f1": self._val_f1(head, validation)}]
        best, best_f1 = head, rounds[0]["val_micro_f1"]
        pool = list(dict.fromkeys(u for u in unlabelled if u.strip()))
        if len(pool) > self.max_unlabelled:
            pool = [pool[i] for i in sorted(rng.choice(len(pool), self.max_unlabelled, replace=False))]
        if pool and self.n_iter > 0:
            xu = self._embed(pool)
            n = min(len(pool), self.n_select or max(64, 4 * len(texts)))
            for it in range(1, self.n_iter + 1):
                probs = self._probs(head, xu, passes=self.mc_passes, seed=self.random_state + it)
                idx, pseudo, w = self._select(probs, n, rng)
                head = self._train_head(np.concatenate([x, xu[idx]]), np.concatenate([yf, pseudo]),
                                        np.concatenate([np.ones(len(x)), w]),
                                        seed=self.random_state + it, class_y=y)
                f1 = self._val_f1(head, validation)
                rounds.append({"round": it, "pseudo": int(len(idx)), "mean_bald":
                               float(bald(probs[:, idx], self.multi_label_)[0].mean()), "val_micro_f1": f1})
                if f1 is not None and best_f1 is not None and f1 > best_f1:
                    best, best_f1 = head, f1
        self.head_ = best if (self.keep_best and validation is not None) else head
        self.metadata_["self_train"] = {"rounds": rounds, "n_unlabelled": len(pool),
                                        "kept_round": next((r["round"] for r in rounds
                                                            if r["val_micro_f1"] == best_f1), None)
                                        if self.keep_best and validation is not None else len(rounds) - 1}
