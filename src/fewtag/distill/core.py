"""``distill``: a small student encoder learns a big teacher's geometry, then gets a head.

1. The teacher (a fewtag model folder or a sentence encoder) embeds the
   labelled and unlabelled texts once.
2. The student's body learns to reproduce the teacher's pair cosines on those
   texts (:mod:`fewtag.distill.train`), within ``steps`` and ``time_budget``.
3. The student becomes a ``setfit`` tagger: its body is the distilled encoder
   and its logistic head is fitted on the labelled texts, plus -- ``head=
   "teacher"``, the default when the teacher is a tagger -- the unlabelled
   texts labelled by the teacher, as SetFit's ``DistillationTrainer`` fits the
   student's head on the teacher's predictions. The head is built by
   ``setfit`` itself (``num_epochs=0``: no contrastive training on top of the
   distilled body), so the folder is an ordinary setfit model folder that
   ``fewtag predict`` and ``load_tagger`` read.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.data.dataset import Split
from fewtag.distill.data import DistillData
from fewtag.distill.teacher import Teacher, load_teacher
from fewtag.distill.train import BodyTraining, cosine_gap, train_student_body
from fewtag.errors import ConfigError, InputError
from fewtag.methods.base import BaseTagger
from fewtag.models import DEFAULT_ENCODER
from fewtag.progress import report

__all__ = ["DistillResult", "distill", "HEADS"]

HEADS = ("auto", "teacher", "labelled")
#: texts on which the cosine gap to the teacher is measured before and after
GAP_TEXTS = 128


@dataclass
class DistillResult:
    """What :func:`distill` did; saved as ``distill`` in the student's ``fewtag.json``."""

    teacher: dict[str, Any]
    student: str
    head: str
    texts: dict[str, int]
    steps: int
    steps_planned: int
    stopped_early: bool
    batch_size: int
    learning_rate: float
    max_length: int
    seconds: dict[str, float]
    loss_first: float | None
    loss_last: float | None
    cosine_gap: dict[str, Any] = field(default_factory=dict)
    test: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(steps: int, batch_size: int, learning_rate: float, max_length: int, time_budget, head: str) -> None:
    if steps < 0:
        raise ConfigError(f"steps must be >= 0, got {steps}")
    if batch_size < 2:
        raise ConfigError(f"batch size must be >= 2 texts (pairs are taken inside a batch), got {batch_size}")
    if not learning_rate > 0 or max_length < 8:
        raise ConfigError(f"need a learning rate > 0 and max length >= 8; got {learning_rate}, {max_length}")
    if time_budget is not None and not time_budget > 0:
        raise ConfigError(f"time budget must be > 0 seconds, got {time_budget}")
    if head not in HEADS:
        raise ConfigError(f"head must be one of {', '.join(HEADS)}, got {head!r}")


def _teacher_labels(teacher: Teacher, data: DistillData) -> tuple[list[str], list[Any]]:
    """The unlabelled texts with the labels the teacher gives them (abstentions dropped)."""
    assert teacher.tagger is not None
    missing = sorted(set(data.classes) ^ set(teacher.tagger.classes_))
    if missing:
        raise ConfigError(
            f"the teacher's labels ({', '.join(teacher.tagger.classes_)}) are not the data's "
            f"({', '.join(data.classes)}); use --head labelled"
        )
    texts = list(dict.fromkeys(t for t in data.unlabelled if t.strip()))
    if not texts:
        return [], []
    chosen = teacher.predict_indicator(texts)
    names = teacher.tagger.classes_
    labels = [[names[j] for j in np.flatnonzero(row)] for row in chosen]
    keep = [i for i, labs in enumerate(labels) if labs or data.multi_label]
    return [texts[i] for i in keep], [labels[i] if data.multi_label else labels[i][0] for i in keep]


def _gap_texts(data: DistillData, pool: list[str], seed: int) -> tuple[list[str], str]:
    if len(data.valid) >= 4:
        return list(dict.fromkeys(data.valid.texts))[:GAP_TEXTS], "validation"
    rng = np.random.default_rng(seed + 7)
    idx = rng.permutation(len(pool))[:GAP_TEXTS]
    return [pool[i] for i in sorted(idx)], "training"


def _encode(body: Any, texts: list[str]) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return np.asarray(body.encode(texts, batch_size=16, normalize_embeddings=True, show_progress_bar=False))


def distill(
    teacher: str | Path,
    data: DistillData,
    out: str | Path,
    *,
    student: str = DEFAULT_ENCODER,
    steps: int = 200,
    batch_size: int = 16,
    learning_rate: float = 5e-5,
    max_length: int = 128,
    time_budget: float | None = None,
    head: str = "auto",
    head_params: dict[str, Any] | None = None,
    decision: Any = None,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> tuple[BaseTagger, DistillResult]:
    """Distil ``teacher`` into ``student`` on ``data`` and save a setfit model folder to ``out``.

    Parameters
    ----------
    teacher : str or Path
        A fewtag model folder (setfit, embed-logreg, knn) or a sentence encoder id / folder.
    data : DistillData
        From :func:`fewtag.distill.read_distill_data`.
    out : str or Path
        Model folder to write (whole or not at all).
    student : str
        Sentence encoder id or folder to start the student from.
    steps : int
        Optimiser steps of the body (0: the student keeps its own body).
    batch_size : int
        Texts per step; all pairs inside a batch are used.
    learning_rate : float
    max_length : int
        Tokens per text for the student (training and prediction).
    time_budget : float, optional
        Seconds for the whole run, counted from the call; training stops when
        they are spent (the teacher's embedding pass and the head still run).
    head : {"auto", "teacher", "labelled"}
        Fit the head on the labelled texts plus the teacher's labels for the
        unlabelled texts (``teacher``) or on the labelled texts only.
        ``auto``: ``teacher`` when the teacher is a tagger.
    head_params : dict, optional
        More ``setfit`` parameters for the student (``C``, ``class_weight``,
        ``label_templates``, ``adjust_priors``, ...); ``model``,
        ``max_length`` and ``num_epochs`` are set by the distillation.
    decision : DecisionSpec or dict, optional
        What the decision rule is tuned for on the validation texts.
    seed : int
    log : callable(str), optional

    Returns
    -------
    (tagger, result)

    Notes
    -----
    Progress goes to :func:`fewtag.progress.report`: ``"teacher embeds"`` (texts done) and
    ``"student learns"`` (steps done, with the loss).

    Raises
    ------
    ConfigError
        Bad settings, or a teacher whose labels are not the data's.
    InputError
        No texts.
    ModelNotFoundError
        Teacher or student not available offline.
    """
    from fewtag.embed.encoder import clear_encoders
    from fewtag.embed.loading import load_sentence_transformer
    from fewtag.io import check_out
    from fewtag.models import resolve_model
    from fewtag.registry import create

    t0 = time.perf_counter()
    _check(steps, batch_size, learning_rate, max_length, time_budget, head)
    fixed = sorted({"model", "max_length", "num_epochs"} & set(head_params or {}))
    if fixed:
        raise ConfigError(f"distill sets the student's {', '.join(fixed)} itself; use --student / --max-length")
    create("setfit", head_params)  # an unknown parameter fails before any model loads
    check_out(out, "model")
    say = log or (lambda _m: None)
    pool = data.pool()
    if not pool:
        raise InputError("no texts to distil on")
    student_path = resolve_model(student, method="distill")
    teach = load_teacher(teacher, max_length=max_length)
    chosen_head = ("teacher" if teach.tagger is not None else "labelled") if head == "auto" else head
    if chosen_head == "teacher" and teach.tagger is None:
        raise ConfigError(f"--head teacher needs a teacher model folder; {teacher} is a plain sentence encoder")
    seconds: dict[str, float] = {}

    chunk = 64
    vectors = np.zeros((len(pool), teach.dim), dtype=np.float32)
    for start in range(0, len(pool), chunk):
        vectors[start : start + chunk] = teach.embed(pool[start : start + chunk])
        report("teacher embeds", min(start + chunk, len(pool)), len(pool))
    gap_texts, gap_on = _gap_texts(data, pool, seed)
    gap_teacher = teach.embed(gap_texts)
    extra_texts, extra_labels = _teacher_labels(teach, data) if chosen_head == "teacher" else ([], [])
    seconds["teacher"] = round(time.perf_counter() - t0, 2)
    say(f"teacher {teacher}: embedded {len(pool)} texts in {seconds['teacher']:.0f} s")

    body = load_sentence_transformer(student_path, max_length)
    gap_before = cosine_gap(_encode(body, gap_texts), gap_teacher)
    training: BodyTraining = train_student_body(
        body,
        pool,
        vectors,
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        deadline=None if time_budget is None else t0 + time_budget,
        seed=seed,
        on_step=lambda s, total, loss: report("student learns", s, total, loss=loss),
    )
    seconds["student"] = training.seconds
    gap_after = cosine_gap(_encode(body, gap_texts), gap_teacher)

    t_head = time.perf_counter()
    train = data.train
    head_texts = list(train.texts) + extra_texts
    head_labels = list(train.targets(data.multi_label)) + extra_labels
    valid = data.valid
    with tempfile.TemporaryDirectory(prefix="fewtag-distill-") as tmp:
        body.save(str(Path(tmp) / "student"))
        params = {**(head_params or {}), "model": str(Path(tmp) / "student"), "max_length": max_length}
        params["num_epochs"] = 0  # the head only: the body is the distilled one
        tagger = create("setfit", params, seed=seed)
        tagger.fit(
            head_texts,
            head_labels,
            classes=data.classes,
            multi_label=data.multi_label,
            validation=(valid.texts, valid.targets(data.multi_label)) if len(valid) else None,
            unlabelled=data.unlabelled,
            decision=decision,
            text=data.text,
        )
        clear_encoders()  # the memo holds the temporary folder's encoder
    tagger.set_params(model=student)  # the folder's body/ is the distilled student; this names where it began
    tagger.metadata_.setdefault("encoder", {})["id"] = student
    seconds["head"] = round(time.perf_counter() - t_head, 2)
    seconds["total"] = round(time.perf_counter() - t0, 2)
    result = DistillResult(
        teacher=teach.describe(),
        student=student,
        head=chosen_head,
        texts={"labelled": len(train), "unlabelled": len(data.unlabelled), "pool": len(pool), "head": len(head_texts)},
        steps=training.steps,
        steps_planned=training.planned,
        stopped_early=training.stopped_early,
        batch_size=batch_size,
        learning_rate=learning_rate,
        max_length=max_length,
        seconds=seconds,
        loss_first=round(training.losses[0], 6) if training.losses else None,
        loss_last=round(float(np.mean(training.losses[-10:])), 6) if training.losses else None,
        cosine_gap={
            "on": gap_on,
            "texts": len(gap_texts),
            "before": round(gap_before, 6),
            "after": round(gap_after, 6),
        },
    )
    if len(data.test):
        result.test = _score(tagger, data.test, data)
    tagger.metadata_["distill"] = result.to_dict()
    tagger.metadata_["trained_on"] = {
        "data": data.source,
        "seed": seed,
        "tuning": "validation split" if len(valid) else "none",
    }
    tagger.save(out)
    return tagger, result


def _score(tagger: BaseTagger, test: Split, data: DistillData) -> dict[str, Any]:
    from fewtag.metrics import macro_f1, micro_f1

    gold = test.y(data.classes)
    pred = tagger.predict_indicator(test.texts)
    return {"micro_f1": round(micro_f1(gold, pred), 4), "macro_f1": round(macro_f1(gold, pred), 4), "size": len(test)}
