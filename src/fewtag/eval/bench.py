"""The benchmark harness: methods x training slices x seeds, the book's ch. 9 experiment.

For every method, training slice and seed a fresh tagger is built by the one
factory (:func:`fewtag.registry.create`) and fitted on the slice (``classes`` =
all labels, validation split given, unlabelled split given, the config's
``decision`` spec given), its decision rule is tuned on validation inside
``fit``, then the tuned tagger scores the validation split (``val_micro_f1``,
``val_macro_f1``: what choices are made on) and the test split is predicted and
scored exactly once (what is reported). Zero-shot methods
(``needs_training = False``) never see training texts: they are fitted once
per seed and their test scores are reported at every slice, so their
learning curve is flat, as in the book's figure.

Typical use::

    settings = make_settings("prepared/", methods="naive-bayes,tfidf-logreg", seeds=3, out="runs/b1")
    result = run_bench(settings)
    write_run(result)          # results.csv, per_label.csv, figures, report.md/html, config.json
"""

from __future__ import annotations

import gc
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from fewtag.errors import ConfigError, InputError, TaggerError
from fewtag.eval.memory import PeakRSS, current_rss_bytes
from fewtag.eval.report import write_run
from fewtag.eval.result import PER_LABEL_COLUMNS, RESULT_COLUMNS, BenchResult
from fewtag.eval.settings import (
    DEFAULT_SLICES,
    RUN_KIND,
    BenchSettings,
    MethodSpec,
    check_out,
    load_bench_config,
    make_settings,
    parse_slices,
)
from fewtag.metrics import score
from fewtag.registry import create, get_method

__all__ = [
    "MethodSpec",
    "BenchSettings",
    "BenchResult",
    "RESULT_COLUMNS",
    "PER_LABEL_COLUMNS",
    "DEFAULT_SLICES",
    "RUN_KIND",
    "parse_slices",
    "load_bench_config",
    "make_settings",
    "check_out",
    "run_bench",
    "bench",
    "PeakRSS",
]

T = TypeVar("T")


def _make_slices(y: np.ndarray, sizes: list[int], seed: int) -> dict[str, list[int]]:
    """Nested stratified slices of one seed, drawn as ``fewtag prepare`` draws them."""
    from fewtag.data.split import make_slices

    return {str(k): list(v) for k, v in make_slices(y, sizes, seed).items()}


def _slices_for_seed(data: Any, names: list[str], seed: int) -> dict[str, list[int] | None]:
    """Training-row indices of each slice for one seed (None: not produced)."""
    n_train = len(data.train)
    numeric = [int(n) for n in names if n != "all"]
    stored = dict(data.slices)
    if seed == data.seed and all(str(n) in stored for n in numeric):
        made = stored
    elif numeric:
        made = _make_slices(data.train.y(data.labels), numeric, seed)
    else:
        made = {}
    out: dict[str, list[int] | None] = {}
    for name in names:
        if name == "all" or int(name) == n_train:  # the slicer leaves out a size equal to "all"
            out[name] = list(range(n_train))
        else:
            out[name] = made.get(name)
    return out


def _summarize_data(data: Any) -> dict[str, Any]:
    counts = {}
    for split in ("train", "valid", "test"):
        s = getattr(data, split)
        c = {lab: 0 for lab in data.labels}
        for labs in s.labels:
            for lab in labs:
                c[lab] = c.get(lab, 0) + 1
        counts[split] = c
    return {
        "path": str(data.path) if data.path is not None else None,
        "labels": list(data.labels),
        "multi_label": bool(data.multi_label),
        "sizes": {s: len(getattr(data, s)) for s in ("train", "valid", "test", "unsup")},
        "label_counts": counts,
        "prepared_seed": data.seed,
    }


def _progress(items: Iterable[T], description: str, total: int) -> Iterator[T]:
    yield from items


def run_bench(
    settings: BenchSettings,
    *,
    progress: Callable[[Iterable[Any], str, int], Iterable[Any]] | None = None,
    log: Callable[[str], None] | None = None,
) -> BenchResult:
    """Run every method x slice x seed; write nothing (see :func:`fewtag.eval.report.write_run`).

    Parameters
    ----------
    settings : from :func:`make_settings`
    progress : wraps the iterable of runs, ``progress(items, description, total)``
    log : receives one-line notes (skipped slices, failures)

    Returns
    -------
    BenchResult

    Raises
    ------
    InputError
        The data cannot be loaded or has no test split.
    ConfigError
        A method's ``decision`` names a label the data does not have.
    """
    from fewtag.data.loading import load_data

    say = log or (lambda msg: None)
    track = progress or _progress
    if settings.store is not None:
        try:
            from fewtag.embed import configure_cache
        except ImportError:
            say(f"note: --store {settings.store} is not used: this fewtag has no embedding cache")
        else:
            configure_cache(settings.store)
    data = load_data(settings.data, seed=0)
    if not len(data.test):
        raise InputError(f"{settings.data} has an empty test split; nothing to score")
    if not len(data.train):
        raise InputError(f"{settings.data} has an empty training split")
    classes, ml = list(data.labels), bool(data.multi_label)
    _check_decisions(settings.methods, classes)
    y_test = data.test.y(classes).astype(bool)
    validation = (data.valid.texts, data.valid.targets(ml)) if len(data.valid) else None
    y_valid = data.valid.y(classes).astype(bool) if validation is not None else None
    unsup = list(data.unsup.texts)
    result = BenchResult(
        settings=settings,
        data_summary=_summarize_data(data),
        labels=classes,
        multi_label=ml,
        y_test=y_test,
        valid=data.valid,
        y_valid=y_valid,
    )
    if validation is None:
        result.notes.append(
            "the validation split is empty: decision rules were not tuned, no val_* "
            "scores, and no method is picked as best by validation"
        )
        say(f"note: {result.notes[-1]}")

    n_train = len(data.train)
    active = []
    for name in settings.slices:
        if name != "all" and int(name) > n_train:
            result.notes.append(f"slice {name} skipped: larger than the training split ({n_train} texts)")
            say(f"note: {result.notes[-1]}")
        else:
            active.append(name)
    if not active:
        raise InputError(
            f"no training slice fits: {', '.join(settings.slices)} are all larger than the "
            f"training split ({n_train} texts); add 'all' or smaller slices"
        )
    seed_slices = {seed: _slices_for_seed(data, active, seed) for seed in range(settings.seeds)}
    for name in active:
        if any(seed_slices[s][name] is None for s in seed_slices):
            result.notes.append(f"slice {name} skipped: the slicer did not produce it")
            say(f"note: {result.notes[-1]}")
    active = [n for n in active if all(seed_slices[s][n] is not None for s in seed_slices)]
    result.slices_run = active

    jobs = [(spec, seed) for spec in settings.methods for seed in range(settings.seeds)]
    units = _units(jobs, active)
    for spec, seed, slice_names in track(units, "Benchmarking", len(units)):
        sl = slice_names[0]
        idx = seed_slices[seed][sl] if get_method(spec.name).needs_training else []
        sub = data.train.subset(idx or [])
        # error analysis: validation scores of the first seed's run at the largest slice
        want_valid = validation is not None and seed == 0 and active[-1] in slice_names
        outcome = _run_one(
            spec,
            seed,
            settings.model,
            sub.texts,
            sub.targets(ml),
            classes,
            ml,
            validation,
            unsup,
            data.test.texts,
            want_valid=want_valid,
        )
        for name in slice_names:
            size = len(seed_slices[seed][name])  # type: ignore[arg-type]
            _record(result, spec, name, size, seed, outcome, say)
    return result


def _check_decisions(specs: list[MethodSpec], classes: list[str]) -> None:
    """Precision targets must name labels of the data (checked before any model is fitted)."""
    from fewtag.decision import DecisionSpec

    for spec in specs:
        if spec.decision is not None:
            try:
                DecisionSpec.from_dict(spec.decision).targets(classes)
            except ConfigError as exc:
                raise ConfigError(f"decision of method {spec.display!r}: {exc}") from exc


def _units(jobs: list[tuple[MethodSpec, int]], active: list[str]) -> list[tuple[MethodSpec, int, list[str]]]:
    """One fit per (method, seed, slice); one per (method, seed) for zero-shot methods."""
    units: list[tuple[MethodSpec, int, list[str]]] = []
    for spec, seed in jobs:
        if get_method(spec.name).needs_training:
            units.extend((spec, seed, [sl]) for sl in active)
        elif active:
            units.append((spec, seed, list(active)))
    return units


_GC_ABOVE = 64 * 2**20
_rss_floor: list[int] = []


def _release_memory() -> None:
    """Collect reference cycles (models) left by the previous row, when memory has grown.

    A full ``gc.collect`` costs ~0.1 s with big libraries loaded, so it only runs
    when resident memory is 64 MiB above the lowest level seen.
    """
    now = current_rss_bytes()
    if not _rss_floor or now < _rss_floor[0]:
        _rss_floor[:] = [now]
    if now - _rss_floor[0] > _GC_ABOVE:
        gc.collect()


def _run_one(
    spec: MethodSpec,
    seed: int,
    model: str | None,
    texts,
    labels,
    classes,
    ml,
    validation,
    unsup,
    test_texts,
    *,
    want_valid: bool = False,
) -> dict[str, Any]:
    """Build, fit, predict test once, then score validation; time fit and test, sample memory.

    Never raises for a method's error.
    """
    _release_memory()
    out: dict[str, Any] = {}
    fit_options: dict[str, Any] = {} if spec.decision is None else {"decision": spec.decision}
    tagger: Any = None
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        try:
            tagger = create(spec.name, spec.params, model=model, seed=seed)
            tagger.fit(
                texts, labels, classes=classes, multi_label=ml, validation=validation, unlabelled=unsup, **fit_options
            )
            t1 = time.perf_counter()
            pred = np.asarray(tagger.predict_indicator(test_texts), dtype=bool)
            t2 = time.perf_counter()
            out = {"status": "ok", "pred": pred, "train_s": t1 - t0, "predict_s": t2 - t1}
            # after the timings: the tuned tagger on validation (val_* columns, error analysis)
            if want_valid:
                scores = tagger.predict_proba(validation[0])
                out["valid_scores"] = scores
                out["valid_pred"] = np.asarray(tagger.decision_.apply(scores), dtype=bool)
            elif validation is not None:
                out["valid_pred"] = np.asarray(tagger.predict_indicator(validation[0]), dtype=bool)
        except TaggerError as exc:
            out = {"status": f"failed: {type(exc).__name__}: {exc}"}
        except Exception as exc:  # a bug in one method must not lose a long run
            out = {"status": f"error: {type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        finally:
            tagger = None  # free the model before the next run
    out["peak_mb"] = mem.peak_mb
    return out


def _record(
    result: BenchResult,
    spec: MethodSpec,
    sl: str,
    size: int,
    seed: int,
    outcome: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    row: dict[str, Any] = {"method": spec.display, "slice": sl, "slice_size": size, "seed": seed}
    if outcome["status"] != "ok":
        row.update(
            {
                k: None
                for k in ("val_micro_f1", "val_macro_f1", "micro_f1", "macro_f1", "accuracy", "train_s", "predict_s")
            }
        )
        row.update(peak_mb=outcome["peak_mb"], status=" ".join(outcome["status"].split()))
        msg = f"{spec.display} slice {sl} seed {seed}: {row['status']}"
        if not any(e.startswith(f"{spec.display} ") and e.endswith(row["status"]) for e in result.errors):
            say(msg)  # once per method and error; every row is in results.csv and the report
        result.errors.append(msg)
        if "traceback" in outcome:
            result.errors.append(outcome["traceback"])
        result.rows.append(row)
        return
    key = (spec.display, sl, seed)
    s = score(result.y_test, outcome["pred"], result.labels)
    v = None
    if "valid_pred" in outcome and result.y_valid is not None:
        v = score(result.y_valid, outcome["valid_pred"], result.labels)
        result.valid_predictions[key] = outcome["valid_pred"]
    row.update(
        val_micro_f1=None if v is None else v["micro_f1"],
        val_macro_f1=None if v is None else v["macro_f1"],
        micro_f1=s["micro_f1"],
        macro_f1=s["macro_f1"],
        accuracy=s["accuracy"],
        train_s=outcome["train_s"],
        predict_s=outcome["predict_s"],
        peak_mb=outcome["peak_mb"],
        status="ok",
    )
    result.rows.append(row)
    result.predictions[key] = outcome["pred"]
    if "valid_scores" in outcome and sl == result.slices_run[-1]:
        result.valid_scores[spec.display] = (outcome["valid_scores"], outcome["valid_pred"])
    base = {"method": spec.display, "slice": sl, "slice_size": size, "seed": seed}
    for split, scored in (("valid", v), ("test", s)):
        for entry in scored["per_label"] if scored is not None else []:
            result.per_label.append({**base, "split": split, **entry})


def bench(
    data: str | Path,
    *,
    out: str | Path,
    log: Callable[[str], None] | None = None,
    progress: Callable[..., Iterable[Any]] | None = None,
    **options: Any,
) -> BenchResult:
    """Validate, run and write a benchmark in one call; returns the result.

    ``options`` are those of :func:`make_settings` (methods, slices, seeds,
    config, model, store). Nothing is written unless the run completes.
    """
    settings = make_settings(data, out=out, **options)
    result = run_bench(settings, progress=progress, log=log)
    write_run(result)
    return result
