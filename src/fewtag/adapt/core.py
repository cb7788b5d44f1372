"""Continued pretraining: MLM, SimCSE or TSDAE on unlabelled in-domain texts.

* ``mlm`` -- the book's domain adaptation: ``DataCollatorForLanguageModeling``
  masks 15% of the tokens (never special tokens) and the model learns to
  restore them. A masked-LM checkpoint (``*ForMaskedLM``) keeps its head and
  is saved as one; a sentence encoder (``all-MiniLM-L6-v2``, MPNet) trains its
  transformer body under a freshly initialised head and is saved back as the
  same sentence encoder (see :mod:`fewtag.adapt.objectives`).
* ``simcse`` -- unsupervised SimCSE: each text is embedded twice with dropout
  on and ``MultipleNegativesRankingLoss`` pulls the two views together, pushing
  the other texts in the batch away. The ``auto`` choice for sentence encoders.
* ``tsdae`` -- ``DenoisingAutoEncoderLoss``: a decoder tied to the encoder
  rebuilds the text from the embedding of a copy with 60% of its words
  deleted. Works offline (the decoder is built from the local encoder folder).

Every run holds out ``held_out`` of the texts (at most :data:`MAX_HELD_OUT`),
records the training loss and the held-out loss every ``eval_every`` steps,
and writes ``adapt.json`` and ``loss.png`` next to the model. A
``time_budget`` stops the run before the step that would overrun it; what was
learned so far is saved and ``AdaptResult.steps`` says how many steps ran.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from fewtag.errors import ConfigError, InputError, MissingDependencyError
from fewtag.io import atomic_dir, write_json
from fewtag.progress import report

__all__ = [
    "OBJECTIVES",
    "DEFAULT_STEPS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_LENGTH",
    "AdaptResult",
    "adapt",
    "check_settings",
    "detect_objective",
    "plot_losses",
]

OBJECTIVES = ("auto", "mlm", "tsdae", "simcse")
#: defaults sized for a laptop (measured cost: see ``fewtag adapt --help`` and the README)
DEFAULT_STEPS = 100
DEFAULT_BATCH_SIZE = 16
DEFAULT_MAX_LENGTH = 64
#: held-out texts used for the held-out loss (evaluating more costs time and tells little more)
MAX_HELD_OUT = 64
LOG_FILE = "adapt.json"
PLOT_FILE = "loss.png"


@dataclass
class AdaptResult:
    """What :func:`adapt` did. Losses are ``[step, loss]`` pairs; ``steps`` is how many ran."""

    out: str
    model: str
    objective: str
    steps: int
    n_train: int
    n_held_out: int
    seconds: float
    steps_requested: int = 0
    time_budget: float | None = None
    stopped_by: str = "steps"  # "steps" or "time budget"
    batch_size: int = 0
    max_length: int = 0
    notes: list[str] = field(default_factory=list)
    train_loss: list[list[float]] = field(default_factory=list)
    held_out_loss: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def has_mlm_head(path: str | Path) -> bool:
    """Whether the checkpoint's architecture is a masked LM (``*ForMaskedLM`` / ``*ForPreTraining``)."""
    path = Path(path)
    cfg_file = path / "config.json"
    if not cfg_file.is_file():  # a sentence-transformers folder may keep the body in a subfolder
        found = sorted(path.glob("*/config.json"))
        cfg_file = found[0] if found else cfg_file
    try:
        arch = json.loads(cfg_file.read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, json.JSONDecodeError):
        arch = []
    return any(a.endswith(("ForMaskedLM", "ForPreTraining")) for a in arch)


def detect_objective(path: str | Path) -> str:
    """The ``auto`` objective: ``"mlm"`` when the checkpoint has a masked-LM head, else ``"simcse"``."""
    return "mlm" if has_mlm_head(path) else "simcse"


def _split(texts: list[str], held_out: float, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    n_held = int(round(held_out * len(texts))) if len(texts) >= 4 else 0
    n_held = min(n_held, MAX_HELD_OUT)
    return [texts[i] for i in order[n_held:]], [texts[i] for i in order[:n_held]]


def _batches(n: int, batch_size: int, steps: int, seed: int):
    """``steps`` index batches cycling over seeded permutations of ``range(n)``."""
    rng = np.random.default_rng(seed)
    pool: list[int] = []
    for _ in range(steps):
        while len(pool) < min(batch_size, n):
            pool.extend(rng.permutation(n).tolist())
        batch, pool = pool[:batch_size], pool[batch_size:]
        yield batch


def check_settings(
    steps: int, batch_size: int, max_length: int, time_budget: float | None = None, held_out: float = 0.1
) -> None:
    """Raise :class:`ConfigError` (one line) for a setting :func:`adapt` cannot run with.

    >>> check_settings(100, 16, 64, time_budget=-5)
    Traceback (most recent call last):
    ...
    fewtag.errors.ConfigError: time_budget must be a positive number of seconds, got -5
    """
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    if batch_size < 2:
        raise ConfigError(f"batch_size must be >= 2 (in-batch negatives need two texts), got {batch_size}")
    if max_length < 8:
        raise ConfigError(f"max_length must be >= 8 tokens, got {max_length}")
    if time_budget is not None and not (math.isfinite(time_budget) and time_budget > 0):
        raise ConfigError(f"time_budget must be a positive number of seconds, got {time_budget}")
    if not 0 <= held_out < 1:
        raise ConfigError(f"held_out must be in [0, 1), got {held_out}")


class _Clock:
    """Wall time since the run began, and how many more steps the time budget allows."""

    def __init__(self, budget: float | None, steps: int):
        self.start = time.perf_counter()
        self.budget = budget
        self.steps = steps
        self.train_seconds = 0.0  # optimiser steps only
        self.eval_seconds = 0.0  # the last held-out evaluation

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def planned(self, done: int) -> int:
        """Steps the run expects to make in all: ``steps``, or fewer when the budget runs out first.

        The budget keeps room for one last held-out evaluation; at least one step always runs.
        """
        if self.budget is None or done == 0:
            return self.steps
        per_step = max(self.train_seconds / done, 1e-9)
        left = self.budget - self.elapsed() - self.eval_seconds
        return max(done, min(self.steps, done + int(left // per_step)))


def adapt(
    texts: Sequence[str],
    model: str | Path,
    out: str | Path,
    *,
    steps: int = DEFAULT_STEPS,
    objective: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    learning_rate: float | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    held_out: float = 0.1,
    eval_every: int | None = None,
    time_budget: float | None = None,
    seed: int = 0,
) -> AdaptResult:
    """Continue pretraining ``model`` on ``texts`` and save the checkpoint to ``out``.

    Progress (``"adapt"``, step, planned steps, ``loss=``, ``seconds_left=``)
    goes to :func:`fewtag.progress.report`.

    Parameters
    ----------
    texts : sequence of str
        Unlabelled in-domain texts.
    model : str or Path
        Hub id (resolved offline first) or folder.
    out : str or Path
        Output folder; written atomically (whole or not at all).
    steps : int
        Optimiser steps (at most; see ``time_budget``).
    objective : {"auto", "mlm", "tsdae", "simcse"}
        ``auto``: ``mlm`` when the checkpoint has a masked-LM head, else
        ``simcse``. ``mlm`` on a sentence encoder trains its body under a
        fresh MLM head and writes a sentence encoder back.
    batch_size, learning_rate, max_length : training settings
        Default learning rate: 5e-5 (mlm), 3e-5 (simcse, tsdae).
    held_out : float
        Fraction of the texts (at most :data:`MAX_HELD_OUT`) kept apart for the held-out loss.
    eval_every : int, optional
        Steps between held-out evaluations (default: 5 points per run).
    time_budget : float, optional
        Seconds for the whole run (loading, training, held-out evaluations;
        saving follows). The run stops before a step that would not fit, saves
        what it learned and says so in ``stopped_by``; at least one step runs.
        The learning rate decays over the steps the budget allows.
    seed : int

    Returns
    -------
    AdaptResult

    Raises
    ------
    ConfigError
        Unknown objective, a bad setting (``steps < 1``, ``time_budget <= 0``,
        ...), or ``mlm`` on a model transformers has no masked-LM class for.
    InputError
        Fewer than 2 texts, or a diverging loss.
    """
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    check_settings(steps, batch_size, max_length, time_budget, held_out)
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if len(texts) < 2:
        raise InputError(f"need at least 2 unlabelled texts to adapt on, got {len(texts)}")
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError("torch is needed for adaptation: pip install 'fewtag[encoders]'") from exc
    from fewtag.adapt.objectives import make_objective
    from fewtag.methods._schedule import lr_factor
    from fewtag.models import resolve_model

    clock = _Clock(time_budget, steps)
    path = resolve_model(model, method="adapt")
    chosen = detect_objective(path) if objective == "auto" else objective
    train, held = _split(texts, held_out, seed)
    eval_every = eval_every or max(1, steps // 5)
    torch.manual_seed(seed)
    lr = learning_rate or (5e-5 if chosen == "mlm" else 3e-5)
    trainer = make_objective(chosen, path, max_length, has_mlm_head=has_mlm_head(path), name=str(model))
    params = [p for p in trainer.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    plan = {"total": steps}  # shrinks when the time budget allows fewer steps
    sched = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: lr_factor(s, warmup, plan["total"]))
    result = AdaptResult(
        out=str(out),
        model=str(model),
        objective=chosen,
        steps=0,
        n_train=len(train),
        n_held_out=len(held),
        seconds=0.0,
        steps_requested=steps,
        time_budget=time_budget,
        batch_size=batch_size,
        max_length=max_length,
        notes=list(trainer.notes),
    )

    def evaluate(step: int) -> None:
        t0 = time.perf_counter()
        result.held_out_loss.append([step, trainer.held_out_loss(held, batch_size, seed)])
        clock.eval_seconds = time.perf_counter() - t0

    if held:
        evaluate(0)
    for step, idx in enumerate(_batches(len(train), batch_size, steps, seed), 1):
        if step > 1 and clock.planned(step - 1) < step:
            result.stopped_by = "time budget"
            break
        t0 = time.perf_counter()
        trainer.train_mode()
        loss = trainer.loss([train[i] for i in idx])
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        lr = optimiser.param_groups[0]["lr"]  # this step's learning rate, reported below
        optimiser.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise InputError(f"the {chosen} loss diverged at step {step}; lower the learning rate")
        clock.train_seconds += time.perf_counter() - t0
        result.steps = step
        result.train_loss.append([step, value])
        plan["total"] = max(warmup + 1, clock.planned(step))
        sched.step()
        per_step = clock.train_seconds / step
        left = (clock.planned(step) - step) * per_step
        report("adapt", step, clock.planned(step), loss=value, lr=lr, seconds_left=left)
        if held and step % eval_every == 0 and step < steps:
            evaluate(step)
    if held and (not result.held_out_loss or result.held_out_loss[-1][0] != result.steps):
        evaluate(result.steps)
    result.seconds = round(clock.elapsed(), 2)
    with atomic_dir(out) as tmp:
        trainer.save(tmp)
        write_json(tmp / LOG_FILE, result.to_dict())
        plot_losses(result, tmp / PLOT_FILE)
    return result


def plot_losses(result: AdaptResult, path: str | Path) -> None:
    """Training and held-out loss against the step, as in the book's figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    if result.train_loss:
        tr = np.array(result.train_loss)
        w = max(1, len(tr) // 30)  # a running mean keeps the curve readable
        smooth = np.convolve(tr[:, 1], np.ones(w) / w, mode="valid")
        ax.plot(tr[w - 1 :, 0], smooth, label="train")
    if result.held_out_loss:
        ho = np.array(result.held_out_loss)
        ax.plot(ho[:, 0], ho[:, 1], marker="o", label="held-out")
    ax.set_xlabel("step")
    ax.set_ylabel(f"{result.objective} loss")
    ax.set_title(f"Domain adaptation of {Path(result.model).name}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
