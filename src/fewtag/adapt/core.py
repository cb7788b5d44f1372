"""Continued pretraining: MLM for masked-LM checkpoints, SimCSE or TSDAE for sentence encoders.

* ``mlm`` -- the book's domain adaptation: ``DataCollatorForLanguageModeling``
  masks 15% of the tokens (never special tokens) and the model learns to
  restore them. Needs a checkpoint with an MLM head (``*ForMaskedLM``).
* ``simcse`` -- unsupervised SimCSE: each text is embedded twice with dropout
  on and ``MultipleNegativesRankingLoss`` pulls the two views together, pushing
  the other texts in the batch away. Works for any sentence encoder; the
  default for encoders without an MLM head (``all-MiniLM-L6-v2``) because it
  is one encoder pass per view -- the cheapest objective on a CPU.
* ``tsdae`` -- ``DenoisingAutoEncoderLoss``: a decoder tied to the encoder
  rebuilds the text from the embedding of a copy with 60% of its words
  deleted. Works offline (the decoder is built from the local encoder folder,
  with the encoder's tokenizer).

Every run holds out ``held_out`` of the texts, records the training loss and
the held-out loss every ``eval_every`` steps, and writes ``adapt.json`` and
``loss.png`` next to the model.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fewtag.errors import ConfigError, InputError, MissingDependencyError
from fewtag.io import atomic_dir, write_json

__all__ = ["OBJECTIVES", "AdaptResult", "adapt", "detect_objective", "plot_losses"]

OBJECTIVES = ("auto", "mlm", "tsdae", "simcse")
LOG_FILE = "adapt.json"
PLOT_FILE = "loss.png"


class _Objective(Protocol):
    """What :func:`adapt` drives: one training objective wrapped round a model."""

    def parameters(self) -> Iterable[Any]: ...  # torch parameters; torch is imported lazily

    def train_mode(self) -> None: ...

    def loss(self, texts: list[str]) -> Any: ...  # a scalar torch tensor

    def held_out_loss(self, texts: list[str], batch_size: int, seed: int) -> float: ...

    def save(self, folder: Path) -> None: ...


@dataclass
class AdaptResult:
    """What :func:`adapt` did. Losses are ``[step, loss]`` pairs."""

    out: str
    model: str
    objective: str
    steps: int
    n_train: int
    n_held_out: int
    seconds: float
    train_loss: list[list[float]] = field(default_factory=list)
    held_out_loss: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def detect_objective(path: str | Path) -> str:
    """``"mlm"`` when the checkpoint has a masked-LM head, else ``"simcse"``."""
    path = Path(path)
    cfg_file = path / "config.json"
    if not cfg_file.is_file():  # a sentence-transformers folder may keep the body in a subfolder
        found = sorted(path.glob("*/config.json"))
        cfg_file = found[0] if found else cfg_file
    try:
        arch = json.loads(cfg_file.read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, json.JSONDecodeError):
        arch = []
    return "mlm" if any(a.endswith(("ForMaskedLM", "ForPreTraining")) for a in arch) else "simcse"


def _split(texts: list[str], held_out: float, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    n_held = int(round(held_out * len(texts))) if len(texts) >= 4 else 0
    n_held = min(n_held, 512)
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


def adapt(
    texts: Sequence[str],
    model: str | Path,
    out: str | Path,
    *,
    steps: int = 300,
    objective: str = "auto",
    batch_size: int = 16,
    learning_rate: float | None = None,
    max_length: int = 128,
    held_out: float = 0.1,
    eval_every: int | None = None,
    seed: int = 0,
    on_step: Callable[[int, float], None] | None = None,
) -> AdaptResult:
    """Continue pretraining ``model`` on ``texts`` and save the checkpoint to ``out``.

    Parameters
    ----------
    texts : sequence of str
        Unlabelled in-domain texts.
    model : str or Path
        Hub id (resolved offline first) or folder.
    out : str or Path
        Output folder; written atomically (whole or not at all).
    steps : int
        Optimiser steps.
    objective : {"auto", "mlm", "tsdae", "simcse"}
        ``auto``: ``mlm`` when the checkpoint has a masked-LM head, else ``simcse``.
    batch_size, learning_rate, max_length : training settings
        Default learning rate: 5e-5 (mlm), 3e-5 (simcse, tsdae).
    held_out : float
        Fraction of the texts kept apart for the held-out loss.
    eval_every : int, optional
        Steps between held-out evaluations (default: 10 points per run).
    seed : int
    on_step : callable(step, loss), optional
        Progress callback.

    Returns
    -------
    AdaptResult

    Raises
    ------
    ConfigError
        Unknown objective, or ``mlm`` on a model without an MLM head.
    InputError
        Fewer than 2 texts.
    """
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if len(texts) < 2:
        raise InputError(f"need at least 2 unlabelled texts to adapt on, got {len(texts)}")
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError("torch is needed for adaptation: pip install 'fewtag[encoders]'") from exc
    from fewtag.methods._schedule import linear_warmup_decay
    from fewtag.models import resolve_model

    path = resolve_model(model, method="adapt")
    chosen = detect_objective(path) if objective == "auto" else objective
    if chosen == "mlm" and detect_objective(path) != "mlm":
        raise ConfigError(
            f"{model} has no masked-LM head, so objective 'mlm' cannot train it; "
            "use --objective simcse or tsdae (sentence encoders)"
        )
    train, held = _split(texts, held_out, seed)
    eval_every = eval_every or max(1, steps // 10)
    torch.manual_seed(seed)
    lr = learning_rate or (5e-5 if chosen == "mlm" else 3e-5)
    runs: dict[str, Callable[[Path, int], _Objective]] = {"mlm": _MLMRun, "simcse": _SimCSERun, "tsdae": _TSDAERun}
    trainer = runs[chosen](path, max_length)
    params = [p for p in trainer.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    sched = linear_warmup_decay(optimiser, warmup, steps)
    result = AdaptResult(
        out=str(out),
        model=str(model),
        objective=chosen,
        steps=steps,
        n_train=len(train),
        n_held_out=len(held),
        seconds=0.0,
    )
    start = time.perf_counter()
    if held:
        result.held_out_loss.append([0, trainer.held_out_loss(held, batch_size, seed)])
    for step, idx in enumerate(_batches(len(train), batch_size, steps, seed), 1):
        trainer.train_mode()
        loss = trainer.loss([train[i] for i in idx])
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        sched.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise InputError(f"the {chosen} loss diverged at step {step}; lower the learning rate")
        result.train_loss.append([step, value])
        if on_step is not None:
            on_step(step, value)
        if held and (step % eval_every == 0 or step == steps):
            result.held_out_loss.append([step, trainer.held_out_loss(held, batch_size, seed)])
    result.seconds = round(time.perf_counter() - start, 2)
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


# ---------------------------------------------------------------- objectives
class _MLMRun:
    def __init__(self, path: Path, max_length: int):
        from transformers import AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling

        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModelForMaskedLM.from_pretrained(str(path))
        self.collator = DataCollatorForLanguageModeling(self.tokenizer, mlm=True, mlm_probability=0.15)
        self.max_length = max_length

    def parameters(self):
        return self.model.parameters()

    def train_mode(self) -> None:
        self.model.train()

    def loss(self, texts: list[str]):
        enc = self.tokenizer(texts, truncation=True, max_length=self.max_length, return_special_tokens_mask=True)
        rows = [{k: enc[k][i] for k in enc} for i in range(len(texts))]
        batch = self.collator(rows)
        return self.model(**batch).loss

    def held_out_loss(self, texts: list[str], batch_size: int, seed: int) -> float:
        import torch

        self.model.eval()
        state = torch.random.get_rng_state()
        torch.manual_seed(seed + 1)  # the same masks at every evaluation
        try:
            with torch.no_grad():
                losses = [
                    float(self.loss(texts[i : i + batch_size])) * len(texts[i : i + batch_size])
                    for i in range(0, len(texts), batch_size)
                ]
        finally:
            torch.random.set_rng_state(state)
        return sum(losses) / len(texts)

    def save(self, folder: Path) -> None:
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)


class _SimCSERun:
    def __init__(self, path: Path, max_length: int):
        from fewtag.embed import load_sentence_transformer

        self.model = load_sentence_transformer(path, max_length, device="cpu")
        self.loss_fn = self._make_loss()

    def _make_loss(self):
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

        return MultipleNegativesRankingLoss(self.model)

    def parameters(self):
        return self.model.parameters()

    def train_mode(self) -> None:
        self.model.train()

    def _tokenize(self, texts: list[str]) -> dict:
        prep = getattr(self.model, "preprocess", None) or self.model.tokenize  # renamed in ST 6
        return prep(texts)

    def _features(self, texts: list[str]) -> list[dict]:
        return [self._tokenize(texts), self._tokenize(texts)]

    def loss(self, texts: list[str]):
        return self.loss_fn(self._features(texts), None)

    def held_out_loss(self, texts: list[str], batch_size: int, seed: int) -> float:
        import torch

        self.model.train()  # dropout makes the two views differ: that is the objective
        state = torch.random.get_rng_state()
        torch.manual_seed(seed + 1)
        try:
            with torch.no_grad():
                losses = [
                    float(self.loss(texts[i : i + batch_size])) * len(texts[i : i + batch_size])
                    for i in range(0, len(texts), batch_size)
                    if len(texts[i : i + batch_size]) > 1
                ]
        finally:
            torch.random.set_rng_state(state)
        return sum(losses) / max(1, len(texts))

    def save(self, folder: Path) -> None:
        self.model.eval()
        self.model.save(str(folder))


class _TSDAERun(_SimCSERun):
    def __init__(self, path: Path, max_length: int):
        self.path = path
        self.rng = np.random.default_rng(0)
        super().__init__(path, max_length)

    def _make_loss(self):
        from sentence_transformers.sentence_transformer.losses import DenoisingAutoEncoderLoss
        from transformers.utils import logging as hf_logging

        level = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the decoder's new cross-attention weights are expected
        try:
            return DenoisingAutoEncoderLoss(self.model, decoder_name_or_path=str(self.path), tie_encoder_decoder=True)
        finally:
            hf_logging.set_verbosity(level)

    def parameters(self):
        return self.loss_fn.parameters()  # encoder and (tied) decoder

    def _features(self, texts: list[str]) -> list[dict]:
        noisy = []
        for t in texts:  # TSDAE's noise: delete 60% of the words
            words = t.split()
            keep = self.rng.random(len(words)) >= 0.6
            if words and not keep.any():
                keep[int(self.rng.integers(len(words)))] = True
            noisy.append(" ".join(w for w, k in zip(words, keep) if k))
        return [self._tokenize(noisy), self._tokenize(texts)]
