"""Train a model from a dataset, and predict for records: the work behind
``fewtag train`` and ``fewtag predict``.

``train`` on a prepared folder uses its splits (train slice, valid for tuning,
test scored once). ``train`` on a labelled file fits on **all** its rows and
tunes on out-of-fold scores (:mod:`fewtag.crossval`); ``holdout`` keeps a
stratified test part out first. Texts are assembled by the model's
:class:`~fewtag.data.text.TextSpec` on every path.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from fewtag.data.dataset import PreparedDataset
from fewtag.data.text import TextSpec
from fewtag.decision import DecisionSpec
from fewtag.errors import ConfigError, DataFormatError, InputError
from fewtag.methods.base import BaseTagger
from fewtag.registry import create

__all__ = [
    "parse_params",
    "parse_targets",
    "time_budget_per_fit",
    "train_model",
    "read_predict_input",
    "predict_records",
    "open_input",
    "data_fingerprint",
    "text_spec_of",
]


def parse_params(pairs: Iterable[str]) -> dict[str, Any]:
    """``["k=10", "model=dir/"]`` -> ``{"k": 10, "model": "dir/"}`` (values parsed as JSON when they can be)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected KEY=VALUE, got {pair!r}")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


def parse_targets(pairs: Iterable[str]) -> float | dict[str, float] | None:
    """``["bug=0.9", "docs=0.8"]`` -> ``{"bug": 0.9, "docs": 0.8}``; ``["0.9"]`` -> 0.9 (every label).

    >>> parse_targets(["bug=0.9"]), parse_targets(["0.8"]), parse_targets([])
    ({'bug': 0.9}, 0.8, None)
    """
    pairs = list(pairs)
    if not pairs:
        return None
    if len(pairs) == 1 and "=" not in pairs[0]:
        return _number(pairs[0], "--precision-target")
    out: dict[str, float] = {}
    for pair in pairs:
        label, sep, value = pair.rpartition("=")
        if not sep or not label.strip():
            raise ConfigError(f"--precision-target takes LABEL=NUMBER (or one NUMBER for every label); got {pair!r}")
        out[label.strip()] = _number(value, f"--precision-target {label.strip()}")
    return out


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{what} must be a number in (0, 1]; got {text!r}") from None


def time_budget_per_fit(method: str, budget: float, *, prepared: bool) -> float:
    """Seconds of training each fit of ``method`` gets when ``train`` may spend ``budget``.

    A prepared folder fits once. A labelled file fits a ``"holdout"`` method twice
    (on the tuning fold's complement, then on all rows) with about the same pairs
    or steps each, so each fit gets half; the k-fold methods have no training loop.

    >>> time_budget_per_fit("setfit", 300, prepared=False)
    150.0
    """
    from fewtag.registry import get_method

    fits = 1 if prepared or get_method(method).tuning != "holdout" else 2
    return float(budget) / fits


def data_fingerprint(texts: list[str], labels: list[list[str]]) -> str:
    h = hashlib.sha256()
    for t, labs in zip(texts, labels):
        h.update(t.encode())
        h.update(b"\x00" + "\x01".join(labs).encode() + b"\x02")
    return h.hexdigest()[:16]


def text_spec_of(ds: PreparedDataset) -> TextSpec:
    """The text settings a prepared folder was built with (its ``prepare.json``), else the defaults."""
    from fewtag.io import read_json

    meta = ds.path / "prepare.json" if ds.path is not None else None
    if meta is None or not meta.is_file():
        return TextSpec()
    cfg = read_json(meta).get("config", {})
    return TextSpec(
        clean=bool(cfg.get("clean_markdown", True)),
        code_blocks=cfg.get("code_blocks", "shorten"),
        max_chars=cfg.get("max_chars", 4000),
    )


def train_model(
    data: str | Path | PreparedDataset,
    method: str,
    out: str | Path,
    *,
    params: dict[str, Any] | None = None,
    model: str | None = None,
    slice_name: str = "all",
    seed: int = 0,
    decision: DecisionSpec | Mapping[str, Any] | None = None,
    folds: int = 5,
    holdout: float | None = None,
    file_options: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[BaseTagger, dict[str, Any]]:
    """Fit ``method`` and save the model folder to ``out``.

    Parameters
    ----------
    data : a prepared folder (or dataset), or a labelled file
    decision : what the decision rule is tuned for (objective, precision targets, ...)
    folds : out-of-fold tuning folds for a labelled file (fewer when a label is rarer)
    holdout : fraction of a labelled file kept out as a test part, scored once
    file_options : importer options for a labelled file (``format``, ``text_fields``, ``label_field``)

    Returns
    -------
    (tagger, metrics)
        ``metrics``: ``train_size``, ``train_s``, ``tuning``; ``estimate`` (out-of-fold, for a
        file); ``micro_f1``, ``macro_f1``, ``test_size`` when there is a test part.
    """
    spec = DecisionSpec.coerce(decision)
    create(method, params, model=model, seed=seed)  # bad names fail before any data loads
    if holdout is not None and not 0 < holdout < 1:
        raise ConfigError(f"--holdout must be a fraction between 0 and 1; got {holdout}")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"--folds must be an integer >= 2; got {folds!r}")
    if isinstance(data, PreparedDataset) or Path(data).is_dir():
        if holdout is not None:
            raise ConfigError("--holdout is for a labelled file; a prepared folder has its own test split")
        return _train_prepared(
            data, method, out, params=params, model=model, slice_name=slice_name, seed=seed, decision=spec
        )
    path = Path(data)
    if not path.is_file():
        raise InputError(f"{path} does not exist; give a prepared folder (fewtag prepare) or a labelled file")
    return _train_file(
        path,
        method,
        out,
        params=params,
        model=model,
        seed=seed,
        decision=spec,
        folds=folds,
        holdout=holdout,
        file_options=file_options or {},
        log=log,
    )


def _scored(tagger: BaseTagger, texts: list[str], gold: np.ndarray) -> dict[str, Any]:
    from fewtag.metrics import macro_f1, micro_f1

    pred = tagger.predict_indicator(texts)
    return {
        "micro_f1": round(micro_f1(gold, pred), 4),
        "macro_f1": round(macro_f1(gold, pred), 4),
        "test_size": len(texts),
    }


def _min_calibration_rows() -> int:
    from fewtag.calibration import MIN_ROWS

    return MIN_ROWS


def _calibrate_on_validation(tagger: BaseTagger, texts: list[str], y: np.ndarray, seed: int) -> None:
    """Fit the calibration on validation scores, keep it, and retune the rule on calibrated scores."""
    from fewtag.calibration import fit_calibration

    raw = tagger.predict_proba(texts, calibrated=False)
    cal = fit_calibration(raw, y, multi_label=tagger.multi_label_, fitted_on="validation", seed=seed)
    tagger.set_calibration(cal)
    tagger.tune_scores(cal.apply(raw), y)


def _calibration_on_test(tagger: BaseTagger, texts: list[str], gold: np.ndarray) -> dict[str, Any]:
    """ECE of the test scores before and after the saved calibration (scored once; nothing is chosen on it)."""
    from fewtag.calibration import expected_calibration_error

    if tagger.calibration() is None:
        return {}
    raw = tagger.predict_proba(texts, calibrated=False)
    after = tagger.calibration().apply(raw)  # type: ignore[union-attr]
    ml = tagger.multi_label_
    return {
        "test_ece_before": round(expected_calibration_error(raw, gold, multi_label=ml), 4),
        "test_ece_after": round(expected_calibration_error(after, gold, multi_label=ml), 4),
    }


def _train_prepared(
    data: str | Path | PreparedDataset,
    method: str,
    out: str | Path,
    *,
    params: dict[str, Any] | None,
    model: str | None,
    slice_name: str,
    seed: int,
    decision: DecisionSpec,
) -> tuple[BaseTagger, dict[str, Any]]:
    from fewtag.data.loading import load_data

    ds = data if isinstance(data, PreparedDataset) else load_data(data, seed=seed)
    if slice_name not in ds.slices:
        raise InputError(f"slice {slice_name!r} is not in the dataset; slices: {', '.join(ds.slices)}")
    train = ds.train.subset(ds.slices[slice_name])
    tagger = create(method, params, model=model, seed=seed)
    start = time.perf_counter()
    tagger.fit(
        train.texts,
        train.targets(ds.multi_label),
        classes=ds.labels,
        multi_label=ds.multi_label,
        validation=(ds.valid.texts, ds.valid.targets(ds.multi_label)) if len(ds.valid) else None,
        unlabelled=ds.unsup.texts,
        decision=decision,
        text=text_spec_of(ds),
    )
    if len(ds.valid) >= _min_calibration_rows():
        _calibrate_on_validation(tagger, ds.valid.texts, ds.valid.y(ds.labels), seed)
    metrics: dict[str, Any] = {
        "train_s": round(time.perf_counter() - start, 3),
        "train_size": len(train),
        "tuning": "validation split" if len(ds.valid) else "none",
    }
    if len(ds.test):
        metrics.update(_scored(tagger, ds.test.texts, ds.test.y(ds.labels)))
        metrics.update(_calibration_on_test(tagger, ds.test.texts, ds.test.y(ds.labels)))
    tagger.metadata_.update(
        metrics={"test": metrics},
        data_fingerprint=data_fingerprint(train.texts, train.labels),
        trained_on={
            "data": str(ds.path) if ds.path else None,
            "slice": slice_name,
            "seed": seed,
            "tuning": metrics["tuning"],
        },
    )
    tagger.save(out)
    return tagger, metrics


def _train_file(
    path: Path,
    method: str,
    out: str | Path,
    *,
    params: dict[str, Any] | None,
    model: str | None,
    seed: int,
    decision: DecisionSpec,
    folds: int,
    holdout: float | None,
    file_options: dict[str, Any],
    log: Callable[[str], None] | None,
) -> tuple[BaseTagger, dict[str, Any]]:
    from fewtag.crossval import fit_with_cv
    from fewtag.data.labelled import read_labelled_file
    from fewtag.data.split import split_indices

    say = log or (lambda _m: None)
    text = TextSpec()
    rows = read_labelled_file(path, text=text, **file_options)
    for note in rows.notes:
        say(note)
    y = rows.y()
    train_idx, test_idx = np.arange(len(rows)), np.array([], dtype=int)
    if holdout is not None:
        train_idx, test_idx = split_indices(y, holdout, seed, multi_label=rows.multi_label)
    texts = [rows.texts[i] for i in train_idx]
    start = time.perf_counter()
    tagger, estimate = fit_with_cv(
        lambda: create(method, params, model=model, seed=seed),
        texts,
        y[train_idx],
        rows.classes,
        multi_label=rows.multi_label,
        decision=decision,
        text=text,
        unlabelled=rows.unlabelled,
        n_folds=folds,
        seed=seed,
        log=say,
    )
    summary = estimate.summary()
    metrics: dict[str, Any] = {
        "train_s": round(time.perf_counter() - start, 3),
        "train_size": len(texts),
        "tuning": estimate.strategy,
        "estimate": summary,
    }
    saved: dict[str, Any] = {"cv": summary}
    if len(test_idx):
        metrics.update(_scored(tagger, [rows.texts[i] for i in test_idx], y[test_idx]))
        metrics.update(_calibration_on_test(tagger, [rows.texts[i] for i in test_idx], y[test_idx]))
        saved["test"] = {k: metrics[k] for k in ("micro_f1", "macro_f1", "test_size")}
    tagger.metadata_.update(
        metrics=saved,
        data_fingerprint=data_fingerprint(texts, [rows.labels[i] for i in train_idx]),
        trained_on={
            "data": str(path),
            "rows": len(texts),
            "seed": seed,
            "tuning": estimate.strategy,
            "holdout": holdout,
        },
    )
    tagger.save(out)
    return tagger, metrics


# ------------------------------------------------------------------ predict
def read_predict_input(stream: TextIO, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, record) pairs from JSON lines (``text`` or ``title``/``body``, optional ``id``)
    or plain text lines (``{"text": line}``); ids default to the line number."""
    for n, line in enumerate(stream, 1):
        if not line.strip():
            continue
        where = f"{name}:{n}"
        if line.lstrip().startswith("{"):
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                raise DataFormatError(f"{where}: malformed JSON line ({msg})") from None
            if not isinstance(row, dict) or not ("text" in row or "title" in row or "body" in row):
                raise DataFormatError(f"{where}: a record needs 'text' or 'title'/'body'")
            yield str(row.get("id", row.get("number", n))), {**row, "_where": where}
        else:
            yield str(n), {"text": line.rstrip("\n"), "_where": where}


def predict_records(
    tagger: BaseTagger, records: Iterable[tuple[str, Mapping[str, Any]]], *, batch_size: int = 256, digits: int = 4
) -> Iterator[dict[str, Any]]:
    """Predictions in input order: ``{"id", "labels", "scores", "abstained"}``.

    Each record becomes model input through ``tagger.text_of`` (the model's text settings).
    """
    batch: list[tuple[str, str]] = []

    def flush() -> Iterator[dict[str, Any]]:
        scores = tagger.predict_proba([t for _, t in batch])
        chosen = tagger.decision_.apply(scores)
        for (rid, _), row, pick in zip(batch, scores, chosen):
            labels = [tagger.classes_[j] for j in np.flatnonzero(pick)]
            yield {
                "id": rid,
                "labels": labels,
                "scores": {c: round(float(s), digits) for c, s in zip(tagger.classes_, row)},
                "abstained": not labels,
            }

    for rid, rec in records:
        batch.append((rid, tagger.text_of(rec, str(rec.get("_where", rid)))))
        if len(batch) >= batch_size:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def open_input(path: str | None) -> tuple[TextIO, str]:
    """The text of ``path`` (``-`` or None: standard input), checked to be UTF-8."""
    if path in (None, "-"):
        return sys.stdin, "<stdin>"
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p} does not exist")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataFormatError(f"{p}:{line}: not UTF-8") from None
    return io.StringIO(text), str(p)
