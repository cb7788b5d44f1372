"""The one learning-rate schedule of fewtag's torch loops: linear warm-up, then linear decay.

Used by ``finetune``, ``setfit`` and ``fewtag adapt``. It is transformers'
``get_linear_schedule_with_warmup`` except that the first step already runs at
``1 / warmup`` of the peak rate rather than at 0 (transformers' first step is
wasted, which matters with the few steps a few-shot slice gets).
"""

from __future__ import annotations

from typing import Any

__all__ = ["linear_warmup_decay", "lr_factor"]


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Share of the peak learning rate at ``step`` (0-based).

    ``(step + 1) / warmup`` during the ``warmup`` first steps, then a linear decay
    that reaches 0 at ``total``. ``warmup = 0`` decays from the first step.

    Examples
    --------
    >>> [round(lr_factor(s, 2, 6), 2) for s in range(6)]
    [0.5, 1.0, 1.0, 0.75, 0.5, 0.25]
    >>> lr_factor(0, 0, 4)
    1.0
    """
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def linear_warmup_decay(optimizer: Any, warmup: int, total: int) -> Any:
    """A ``torch.optim.lr_scheduler.LambdaLR`` following :func:`lr_factor`; call ``.step()`` per step."""
    import torch

    warmup, total = max(0, int(warmup)), max(1, int(total))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, warmup, total))
