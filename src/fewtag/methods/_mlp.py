"""An MLP head with dropout on frozen, cached sentence embeddings; shared by ``self-train`` and ``uda``.

torch is imported only when a head is built or trained.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from fewtag.embed.tagger import EncoderMixin
from fewtag.errors import MissingDependencyError
from fewtag.io import read_json, write_json
from fewtag.tuning import tune_rule

__all__ = ["MLPHeadMixin"]


class MLPHeadMixin(EncoderMixin):
    """An MLP with dropout on frozen, cached sentence embeddings (torch)."""

    # set by BaseTagger, which every user of this mixin also derives from
    name: ClassVar[str]
    multi_label_: bool
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
            raise MissingDependencyError(f"torch is needed for {self.name}: pip install 'fewtag[encoders]'") from exc
        torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
        return torch

    def _new_head(self, dim: int, n_classes: int, seed: int):
        torch = self._torch()
        torch.manual_seed(seed)
        nn = torch.nn
        return nn.Sequential(
            nn.Dropout(self.dropout),
            nn.Linear(dim, self.hidden),
            nn.GELU(),
            nn.Dropout(self.dropout),
            nn.Linear(self.hidden, n_classes),
        )

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
            per = f.binary_cross_entropy_with_logits(logits, targets, pos_weight=class_w, reduction="none").mean(dim=1)
        else:
            per = -(targets * f.log_softmax(logits, dim=1) * class_w).sum(dim=1)
        return (per * weights).sum() / weights.sum()

    def _train_head(
        self,
        x: NDArray,
        targets: NDArray,
        weights: NDArray | None = None,
        *,
        seed: int,
        class_y: NDArray,
        extra_loss=None,
    ):
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

        save_file({k: v.contiguous() for k, v in self.head_.state_dict().items()}, str(folder / "head.safetensors"))
        write_json(
            folder / "head.json", {"dim": int(self.head_[1].in_features), "n_classes": int(self.head_[4].out_features)}
        )

    def _load_weights(self, folder: Path) -> None:
        from safetensors.torch import load_file

        shape = read_json(folder / "head.json")
        self.head_ = self._new_head(shape["dim"], shape["n_classes"], 0)
        self.head_.load_state_dict(load_file(str(folder / "head.safetensors")))
        self.head_.eval()
