"""SetFit's body training loop, bounded in memory and in time.

Memory: a pair batch is cut into *micro-batches* whose padded tokens stay within
``token_budget`` (texts sorted by length so little is padding); each
micro-batch adds its share of the batch loss to the gradients, and the
optimiser steps once per pair batch, so the effective batch is still the
``batch_size`` pairs the user asked for (gradient accumulation). Activation
memory is then bounded by the budget whatever the text lengths: 64 pairs of
256-token issues are 32k tokens in one backward pass, about 13 GB for MiniLM;
the default budget keeps one pass near 4k tokens.

Time: with ``time_budget`` seconds the loop measures its pace and shortens the
learning-rate schedule to the steps that fit, so training ends on a decayed
rate instead of being cut off mid-schedule. ``max_steps`` caps the steps.
Every step is reported through :func:`fewtag.progress.report`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.methods._schedule import lr_factor
from fewtag.progress import report

__all__ = ["BodyRun", "micro_batches", "token_lengths", "train_pairs"]

Epoch = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]


@dataclass
class BodyRun:
    """What :func:`train_pairs` did."""

    steps: int = 0
    planned_steps: int = 0
    pairs_seen: int = 0
    forward_passes: int = 0
    max_tokens_per_pass: int = 0
    seconds: float = 0.0
    stopped_by: str = "schedule"
    loss: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 2)
        out["loss"] = [round(x, 5) for x in self.loss[:: max(1, len(self.loss) // 50)]]
        return out


def token_lengths(body: Any, texts: Sequence[str], max_length: int) -> NDArray[np.int64]:
    """Tokens per text after truncation, special tokens included (one tokenizer call)."""
    tok = getattr(body, "tokenizer", None)
    if tok is None:
        return np.asarray([min(max_length, len(t) // 4 + 2) for t in texts], dtype=np.int64)
    ids = tok(list(texts), truncation=True, max_length=max_length)["input_ids"]
    return np.asarray([len(i) for i in ids], dtype=np.int64)


def micro_batches(
    a: NDArray[np.int64], b: NDArray[np.int64], lengths: NDArray[np.int64], token_budget: int
) -> list[NDArray[np.int64]]:
    """Split the pairs ``(a[i], b[i])`` into groups whose distinct texts fit ``token_budget`` padded tokens.

    Pairs are taken longest first, so a group's texts have similar lengths; a
    group's cost is ``distinct texts x its longest text``. A single pair over
    the budget is a group of its own.

    Examples
    --------
    >>> groups = micro_batches(np.array([0, 2]), np.array([1, 3]), np.array([10, 10, 50, 50]), 100)
    >>> [g.tolist() for g in groups]
    [[1], [0]]
    """
    longest = np.maximum(lengths[a], lengths[b])
    groups: list[NDArray[np.int64]] = []
    current: list[int] = []
    seen: set[int] = set()
    top = 0
    for p in np.argsort(-longest, kind="stable"):
        new = {int(a[p]), int(b[p])} - seen
        width = max(top, int(longest[p]))
        if current and (len(seen) + len(new)) * width > token_budget:
            groups.append(np.asarray(current, dtype=np.int64))
            current, seen, width = [], set(), int(longest[p])
            new = {int(a[p]), int(b[p])}
        current.append(int(p))
        seen |= new
        top = width
    if current:
        groups.append(np.asarray(current, dtype=np.int64))
    return groups


def train_pairs(
    body: Any,
    texts: Sequence[str],
    epochs: Sequence[Epoch],
    *,
    batch_size: int,
    learning_rate: float,
    warmup_ratio: float,
    token_budget: int,
    time_budget: float | None = None,
    max_steps: int | None = None,
    bf16: bool = False,
    task: str = "setfit",
) -> BodyRun:
    """Minimise the MSE between pair cosines and their 0/1 targets (SetFit's ``CosineSimilarityLoss``).

    Parameters
    ----------
    body : SentenceTransformer
        Trained in place.
    texts : sequence of str
    epochs : sequence of (a, b, target)
        The pairs of each epoch (row indices into ``texts``).
    batch_size : int
        Pairs per optimiser step.
    learning_rate, warmup_ratio : float
        Peak rate; share of the steps spent warming up (linear, then linear decay).
    token_budget : int
        Padded tokens per forward pass (micro-batch).
    time_budget : float, optional
        Seconds the loop may take; the schedule is fitted to the steps that fit.
    max_steps : int, optional
    bf16 : bool
        Run forward and backward under bfloat16 autocast (CPU with native bf16).
    task : str
        Name in the progress reports.

    Returns
    -------
    BodyRun
    """
    import torch
    import torch.nn.functional as F

    batches = [
        (a[s : s + batch_size], b[s : s + batch_size], t[s : s + batch_size])
        for a, b, t in epochs
        for s in range(0, len(a), batch_size)
    ]
    total = len(batches) if max_steps is None else min(len(batches), max_steps)
    run = BodyRun(planned_steps=total)
    if total == 0:
        return run
    run.stopped_by = "max_steps" if total < len(batches) else "schedule"
    lengths = token_lengths(body, texts, int(getattr(body, "max_seq_length", 512) or 512))
    optimizer = torch.optim.AdamW(body.parameters(), lr=learning_rate)
    warmup = max(1, int(warmup_ratio * total))
    plan = [total]  # steps the schedule decays over; shrinks when the time budget is short
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, warmup, plan[0]))
    device = body.device
    prepare = getattr(body, "preprocess", None) or body.tokenize
    start = time.perf_counter()
    body.train()
    try:
        for ia, ib, t in batches:
            if run.steps >= plan[0]:
                break
            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            for group in micro_batches(ia, ib, lengths, token_budget):
                ga, gb = ia[group], ib[group]
                uniq, inv = np.unique(np.concatenate([ga, gb]), return_inverse=True)
                features = prepare([texts[i] for i in uniq])
                features = {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}
                run.max_tokens_per_pass = max(run.max_tokens_per_pass, int(features["input_ids"].numel()))
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    emb = body(features)["sentence_embedding"]
                emb = emb.float()
                cos = F.cosine_similarity(emb[inv[: len(ga)]], emb[inv[len(ga) :]])
                target = torch.as_tensor(t[group], device=device)
                loss = ((cos - target) ** 2).sum() / len(ia)  # this group's share of the batch mean
                loss.backward()
                step_loss += float(loss.detach())
                run.forward_passes += 1
            lr = optimizer.param_groups[0]["lr"]  # this step's learning rate, reported below
            optimizer.step()
            scheduler.step()
            run.steps += 1
            run.pairs_seen += len(ia)
            run.loss.append(step_loss)
            elapsed = time.perf_counter() - start
            if time_budget is not None:
                plan[0] = _fit_plan(run.steps, total, elapsed, time_budget)
                if plan[0] < total:
                    run.stopped_by = "time budget"
            report(task, run.steps, plan[0], loss=step_loss, lr=lr)
    finally:
        body.eval()
    run.planned_steps = plan[0]
    run.seconds = time.perf_counter() - start
    return run


def _fit_plan(done: int, total: int, elapsed: float, budget: float) -> int:
    """Steps that fit ``budget`` seconds at the pace so far (at least the ones done).

    >>> _fit_plan(10, 100, 5.0, 20.0)
    40
    >>> _fit_plan(10, 100, 5.0, 100.0)
    100
    """
    pace = elapsed / max(done, 1)
    return int(min(total, max(done, done + (budget - elapsed) // pace)))
