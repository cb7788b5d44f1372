"""Uncertainty-aware self-training (UST, Mukherjee & Awadallah 2020; book ch. 9 "advanced").

A teacher -- a small MLP with dropout on frozen sentence embeddings -- is
trained on the labelled texts. It predicts the unlabelled texts ``mc_passes``
times with dropout on (MC dropout); BALD (the mutual information between the
prediction and the weights) measures how unsure the teacher really is. The
texts with the lowest BALD get pseudo-labels, weighted by the stability of the
prediction, and a student is trained on labelled + pseudo-labelled texts. The
student becomes the teacher; ``n_iter`` rounds. With ``n_iter=0`` the tagger
is the teacher alone (the baseline self-training is compared with).

The MLP head (:mod:`fewtag.methods._mlp`) is shared with ``uda``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fewtag.methods._mlp import MLPHeadMixin
from fewtag.methods.base import BaseTagger
from fewtag.models import DEFAULT_ENCODER
from fewtag.registry import register

__all__ = ["SelfTrainTagger", "bald"]

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

    #: ``fewtag train FILE`` tunes on one validation fold (slow to fit; tunes on validation inside fit)
    tuning = "holdout"

    def __init__(
        self,
        *,
        model: str = DEFAULT_ENCODER,
        max_length: int = 256,
        n_iter: int = 3,
        mc_passes: int = 10,
        n_select: int | None = None,
        pseudo_weight: float = 0.5,
        max_unlabelled: int = 5000,
        hidden: int = 256,
        dropout: float = 0.2,
        steps: int = 300,
        lr: float = 1e-3,
        weight_decay: float = 1e-2,
        keep_best: bool = True,
        batch_size: int = 64,
        random_state: int = 0,
    ):
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
                head = self._train_head(
                    np.concatenate([x, xu[idx]]),
                    np.concatenate([yf, pseudo]),
                    np.concatenate([np.ones(len(x)), w]),
                    seed=self.random_state + it,
                    class_y=y,
                )
                f1 = self._val_f1(head, validation)
                rounds.append(
                    {
                        "round": it,
                        "pseudo": int(len(idx)),
                        "mean_bald": float(bald(probs[:, idx], self.multi_label_)[0].mean()),
                        "val_micro_f1": f1,
                    }
                )
                if f1 is not None and best_f1 is not None and f1 > best_f1:
                    best, best_f1 = head, f1
        self.head_ = best if (self.keep_best and validation is not None) else head
        self.metadata_["self_train"] = {
            "rounds": rounds,
            "n_unlabelled": len(pool),
            "kept_round": next((r["round"] for r in rounds if r["val_micro_f1"] == best_f1), None)
            if self.keep_best and validation is not None
            else len(rounds) - 1,
        }
