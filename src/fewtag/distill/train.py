"""Train a student body so that its pair cosines match the teacher's.

SetFit's distillation (``DistillationTrainer``) samples pairs of texts, labels
each pair with the teacher's cosine similarity and trains the student with
``CosineSimilarityLoss``: the MSE between the student's pair cosine and the
teacher's. We keep that objective and take the pairs differently: a step
embeds a batch of ``B`` distinct texts once and uses all ``B (B - 1) / 2``
pairs inside it, so every forward pass feeds ``(B - 1) / 2`` pairs per text
instead of one -- what matters on a CPU. Matching cosines (not the vectors
themselves) needs no projection between the teacher's and the student's
dimensions (768 -> 384 for MPNet -> MiniLM), and it is what the head needs: a
logistic head on unit vectors sees the geometry, not the coordinates.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["BodyTraining", "train_student_body", "cosine_gap", "batches"]


@dataclass
class BodyTraining:
    """What :func:`train_student_body` did.

    Attributes
    ----------
    steps : int
        Steps run (fewer than planned when the time budget ran out).
    planned : int
    seconds : float
    stopped_early : bool
    losses : list of float
        Loss of each step.
    """

    steps: int = 0
    planned: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    losses: list[float] = field(default_factory=list)


def batches(n: int, batch_size: int, steps: int, seed: int) -> Iterator[list[int]]:
    """``steps`` batches of distinct indices, cycling over seeded permutations of ``range(n)``.

    >>> [len(set(b)) for b in batches(5, 2, 4, seed=0)]
    [2, 2, 2, 2]
    """
    rng = np.random.default_rng(seed)
    size = min(batch_size, n)
    pool: list[int] = []
    for _ in range(steps):
        while len(pool) < size:
            fresh = [i for i in rng.permutation(n).tolist() if i not in pool[:size]]
            pool.extend(fresh)
        batch, pool = pool[:size], pool[size:]
        yield batch


def _pair_cosines(emb: Any) -> Any:
    """Upper-triangle cosines of the rows of a torch matrix (without the diagonal)."""
    import torch
    import torch.nn.functional as F

    unit = F.normalize(emb, dim=-1)
    sim = unit @ unit.T
    iu = torch.triu_indices(len(unit), len(unit), offset=1, device=sim.device)
    return sim[iu[0], iu[1]]


def cosine_gap(student_vectors: NDArray, teacher_vectors: NDArray) -> float:
    """Mean squared difference between the student's and the teacher's pair cosines.

    Parameters
    ----------
    student_vectors : ndarray of shape (n, d_student)
    teacher_vectors : ndarray of shape (n, d_teacher)

    Returns
    -------
    float (0 when the student's geometry is the teacher's)

    >>> x = np.eye(3)
    >>> cosine_gap(x, np.hstack([x, x]))
    0.0
    """

    def cos(v: NDArray) -> NDArray:
        v = np.asarray(v, dtype=np.float64)
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return (v @ v.T)[np.triu_indices(len(v), k=1)]

    return float(np.mean((cos(student_vectors) - cos(teacher_vectors)) ** 2))


def train_student_body(
    body: Any,
    texts: list[str],
    teacher_vectors: NDArray[np.float32],
    *,
    steps: int,
    batch_size: int = 16,
    learning_rate: float = 5e-5,
    warmup_ratio: float = 0.1,
    deadline: float | None = None,
    seed: int = 0,
    on_step: Callable[[int, int, float], None] | None = None,
) -> BodyTraining:
    """Train ``body`` (a SentenceTransformer) in place on MSE between pair cosines.

    Parameters
    ----------
    body : SentenceTransformer
    texts : list of str, length n
    teacher_vectors : ndarray of shape (n, d_teacher)
        The teacher's embeddings of ``texts``.
    steps : int
        Optimiser steps planned.
    batch_size : int
        Texts per step (all their pairs are used).
    learning_rate, warmup_ratio : float
        AdamW peak rate; linear warm-up then linear decay.
    deadline : float, optional
        ``time.perf_counter()`` value after which no new step starts.
    seed : int
    on_step : callable(step, planned, loss), optional
        Called after each step.

    Returns
    -------
    BodyTraining
    """
    import torch
    import torch.nn.functional as F

    from fewtag.methods._schedule import linear_warmup_decay

    result = BodyTraining(planned=steps)
    if steps < 1 or len(texts) < 2:
        return result
    torch.manual_seed(seed)
    target = torch.as_tensor(np.asarray(teacher_vectors, dtype=np.float32))
    params = [p for p in body.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate)
    scheduler = linear_warmup_decay(optimizer, max(1, int(warmup_ratio * steps)), steps)
    prepare = getattr(body, "preprocess", None) or body.tokenize  # renamed in sentence-transformers 6
    device = body.device
    start = time.perf_counter()
    body.train()
    try:
        for step, idx in enumerate(batches(len(texts), batch_size, steps, seed), 1):
            if deadline is not None and step > 1 and time.perf_counter() >= deadline:
                result.stopped_early = True
                break
            features = prepare([texts[i] for i in idx])
            features = {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}
            emb = body(features)["sentence_embedding"]
            loss = F.mse_loss(_pair_cosines(emb), _pair_cosines(target[idx].to(device)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            value = float(loss.detach())
            if not math.isfinite(value):
                from fewtag.errors import InputError

                raise InputError(f"the distillation loss diverged at step {step}; lower the learning rate")
            result.losses.append(value)
            result.steps = step
            if on_step is not None:
                on_step(step, steps, value)
    finally:
        body.eval()
        result.seconds = round(time.perf_counter() - start, 2)
    return result
