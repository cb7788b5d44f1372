"""The benchmark harness: methods x training slices x seeds, the book's ch. 9 experiment.

For every method, training slice and seed a fresh tagger is fitted on the
slice (``classes`` = all labels, validation split given, unlabelled split
given), its decision rule is tuned on validation inside ``fit``, and the test
split is predicted and scored exactly once. Zero-shot methods
(``needs_training = False``) never see training texts: they are fitted once
per seed and their test scores are reported at every slice, so their
learning curve is flat, as in the book's figure.

Typical use::

    settings = make_settings("prepared/", methods="naive-bayes,tfidf-logreg", seeds=3, out="runs/b1")
    result = run_bench(settings)
    write_run(result)          # results.csv, per_label.csv, figures, report.md/html, config.json
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import math
import os
import shlex
import threading
import time
import tomllib
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from fewtag.errors import ConfigError, InputError, TaggerError
from fewtag.eval.metrics import score
from fewtag.io import read_json
from fewtag.registry import get_method

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

RESULT_COLUMNS = ["method", "slice", "slice_size", "seed", "micro_f1", "macro_f1", "accuracy",
                  "train_s", "predict_s", "peak_mb", "status"]
PER_LABEL_COLUMNS = ["method", "slice", "slice_size", "seed", "label", "precision", "recall", "f1",
                     "support"]
DEFAULT_SLICES = ["8", "16", "32", "64", "128", "all"]
#: ``config.json["kind"]`` of a run folder; only such a folder may be overwritten.
RUN_KIND = "fewtag-bench"
T = TypeVar("T")


# --------------------------------------------------------------------------- settings
@dataclass
class MethodSpec:
    """One line of the benchmark: a registered method, its kwargs and display name.

    Examples
    --------
    >>> MethodSpec("knn", label="kNN (DA)", params={"k": 5}).display
    'kNN (DA)'
    """

    name: str
    label: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def display(self) -> str:
        return self.label or self.name


@dataclass
class BenchSettings:
    """Validated settings of one benchmark run (see :func:`make_settings`)."""

    data: str
    methods: list[MethodSpec]
    out: str
    slices: list[str] = field(default_factory=lambda: list(DEFAULT_SLICES))
    seeds: int = 1
    model: str | None = None
    store: str | None = None
    config: str | None = None

    def command_line(self) -> str:
        """The ``fewtag bench`` command that reproduces this run."""
        parts = ["fewtag", "bench", self.data]
        parts += ["--methods", ",".join(m.display for m in self.methods)]
        parts += ["--slices", ",".join(self.slices), "--seeds", str(self.seeds), "--out", self.out]
        for flag, value in (("--config", self.config), ("--model", self.model), ("--store", self.store)):
            if value is not None:
                parts += [flag, value]
        return shlex.join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["methods"] = [{"name": m.name, "label": m.display, "params": m.params} for m in self.methods]
        return d


def parse_slices(text: str | Iterable[str]) -> list[str]:
    """Parse ``"8,16,all"`` into slice names, smallest first, ``all`` last.

    >>> parse_slices("32, 8,all")
    ['8', '32', 'all']

    Raises
    ------
    ConfigError
        An item that is neither a positive integer nor ``all``, or a repeat.
    """
    items = [s.strip() for s in (text.split(",") if isinstance(text, str) else text)]
    items = [s for s in items if s]
    if not items:
        raise ConfigError("no training slices given; expected e.g. --slices 8,16,32,64,128,all")
    names: list[str] = []
    for item in items:
        name = item.lower()
        if name != "all":
            try:
                n = int(name)
            except ValueError:
                n = 0
            if n < 1 or str(n) != name.lstrip("+"):
                raise ConfigError(f"bad training slice {item!r}: expected positive integers or 'all', "
                                  "comma-separated, e.g. 8,16,32,64,128,all")
            name = str(n)
        if name in names:
            raise ConfigError(f"training slice {item!r} is given twice")
        names.append(name)
    return sorted(names, key=lambda s: math.inf if s == "all" else int(s))


def load_bench_config(path: str | Path) -> dict[str, Any]:
    """Read a bench TOML file.

    Format::

        slices = "8,16,all"        # optional defaults for the command line
        seeds = 3
        [[method]]
        name = "knn"               # a registered method
        label = "kNN (DA)"         # display name (default: name)
        params = { model = "adapted/" }

    Returns
    -------
    dict with ``methods`` (list of :class:`MethodSpec`) and, when given,
    ``slices`` and ``seeds``.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"bench config {path} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    known = {"method", "slices", "seeds"}
    extra = sorted(set(raw) - known)
    if extra:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(extra)}; expected {', '.join(sorted(known))}")
    methods = []
    entries = raw.get("method", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'method' must be an array of tables ([[method]])")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"{path}: [[method]] number {i + 1} needs a name = \"...\"")
        bad = sorted(set(entry) - {"name", "label", "params"})
        if bad:
            raise ConfigError(f"{path}: [[method]] {entry['name']!r} has unknown key(s) {', '.join(bad)}; "
                              "expected name, label, params")
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{path}: params of [[method]] {entry['name']!r} must be a table")
        methods.append(MethodSpec(entry["name"], entry.get("label"), dict(params)))
    out: dict[str, Any] = {"methods": methods}
    if "slices" in raw:
        out["slices"] = raw["slices"] if isinstance(raw["slices"], str) else ",".join(map(str, raw["slices"]))
    if "seeds" in raw:
        out["seeds"] = raw["seeds"]
    return out


def _select_methods(names: list[str] | None, specs: list[MethodSpec]) -> list[MethodSpec]:
    """``--methods`` items pick config entries by label, then by name; others are plain."""
    if not names:
        return list(specs)
    chosen: list[MethodSpec] = []
    for name in names:
        by_label = [s for s in specs if s.label == name]
        by_name = [s for s in specs if s.name == name]
        chosen.extend(by_label or by_name or [MethodSpec(name)])
    return chosen


def _constructor_params(cls: type) -> tuple[set[str], bool]:
    sig = inspect.signature(cls.__init__)
    params = {p for p in sig.parameters if p != "self"}
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    return params, var_kw


def check_out(out: str | Path) -> None:
    """Refuse an existing ``out`` unless it is empty or a previous bench run.

    Raises
    ------
    InputError
    """
    p = Path(out)
    if not p.exists():
        return
    if not p.is_dir():
        raise InputError(f"--out {p} exists and is a file; give a new folder name for the run")
    if not any(p.iterdir()):
        return
    cfg = p / "config.json"
    with contextlib.suppress(OSError, ValueError, AttributeError):
        if cfg.is_file() and read_json(cfg).get("kind") == RUN_KIND:
            return
    raise InputError(f"--out {p} exists and is not a previous `fewtag bench` run (no config.json "
                     "from one); choose a new folder or remove it")


def make_settings(
    data: str | Path,
    *,
    out: str | Path,
    methods: str | list[str] | None = None,
    slices: str | list[str] | None = None,
    seeds: int | None = None,
    config: str | Path | None = None,
    model: str | None = None,
    store: str | Path | None = None,
) -> BenchSettings:
    """Check every option before anything runs or is written.

    Parameters
    ----------
    data : prepared folder or labelled file
    out : run folder to create (or a previous run folder to replace)
    methods : comma-separated names (or list); config labels or names select config entries
    slices : e.g. ``"8,16,32,64,128,all"`` (default, or the config's)
    seeds : number of seeds, >= 1 (default 1, or the config's)
    config : bench TOML with per-method params and display names
    model : model id given to every method whose constructor has a ``model`` parameter
    store : SQLite store used as the embedding cache

    Raises
    ------
    InputError, ConfigError, UnknownMethodError
    """
    data_path = Path(data)
    if not data_path.exists():
        raise InputError(f"DATA {data_path} does not exist; give a prepared folder (fewtag prepare) "
                         "or a labelled file")
    cfg = load_bench_config(config) if config is not None else {"methods": []}
    names = [m.strip() for m in methods.split(",")] if isinstance(methods, str) else methods
    names = [m for m in (names or []) if m]
    specs = _select_methods(names, cfg["methods"])
    if not specs:
        raise ConfigError("no methods given; use --methods naive-bayes,tfidf-logreg (or [[method]] "
                          "entries in --config)")
    seen: set[str] = set()
    for spec in specs:
        cls = get_method(spec.name)  # UnknownMethodError lists the available ones
        accepted, var_kw = _constructor_params(cls)
        unknown = sorted(set(spec.params) - accepted)
        if unknown and not var_kw:
            raise ConfigError(f"method {spec.name!r} takes no parameter(s) {', '.join(unknown)}; "
                              f"it takes: {', '.join(sorted(accepted)) or 'none'}")
        if spec.display in seen:
            raise ConfigError(f"method {spec.display!r} is listed twice; give the rows distinct labels")
        seen.add(spec.display)
    n_seeds = seeds if seeds is not None else cfg.get("seeds", 1)
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ConfigError(f"--seeds must be an integer >= 1; got {n_seeds!r}")
    slice_names = parse_slices(slices if slices is not None else cfg.get("slices", DEFAULT_SLICES))
    check_out(out)
    return BenchSettings(data=str(data), methods=specs, out=str(out), slices=slice_names, seeds=n_seeds,
                         model=model, store=None if store is None else str(store),
                         config=None if config is None else str(config))


# --------------------------------------------------------------------------- memory
def current_rss_bytes() -> int:
    """Resident set size of this process now (``/proc/self/statm``; else the peak so far)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRSS:
    """Peak resident memory of the whole process while the block runs.

    A daemon thread samples ``/proc/self/statm`` every ``interval`` seconds
    (plus once at entry and exit). It measures the process, so memory still
    held from before the block (the data, imported libraries) is included.

    >>> with PeakRSS() as mem:
    ...     _ = bytearray(10_000_000)
    >>> mem.peak_mb > 0
    True
    """

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        self.peak = max(self.peak, current_rss_bytes())

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "PeakRSS":
        self._sample()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


# --------------------------------------------------------------------------- running
@dataclass
class BenchResult:
    """Everything a run produced; :func:`fewtag.eval.report.write_run` writes it out."""

    settings: BenchSettings
    data_summary: dict[str, Any]
    labels: list[str]
    multi_label: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    per_label: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: (method display, slice, seed) -> boolean test predictions, shape (n_test, n_labels)
    predictions: dict[tuple[str, str, int], np.ndarray] = field(default_factory=dict, repr=False)
    y_test: np.ndarray | None = field(default=None, repr=False)
    slices_run: list[str] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        return not self.rows or all(r["status"] != "ok" for r in self.rows)

    def summary(self) -> list[dict[str, Any]]:
        """Mean, sd, min, max of micro/macro F1 per (method, slice) over seeds (ok rows only)."""
        out = []
        for method in [m.display for m in self.settings.methods]:
            for sl in self.slices_run:
                rows = [r for r in self.rows if r["method"] == method and r["slice"] == sl
                        and r["status"] == "ok"]
                if not rows:
                    continue
                entry: dict[str, Any] = {"method": method, "slice": sl, "n": len(rows),
                                         "slice_size": float(np.mean([r["slice_size"] for r in rows]))}
                for key in ("micro_f1", "macro_f1", "accuracy", "train_s", "predict_s", "peak_mb"):
                    v = np.array([r[key] for r in rows], dtype=float)
                    entry[key] = float(v.mean())
                    entry[key + "_sd"] = float(v.std(ddof=1)) if len(v) > 1 else 0.0
                    entry[key + "_min"], entry[key + "_max"] = float(v.min()), float(v.max())
                out.append(entry)
        return out


def _make_slices(y: np.ndarray, sizes: list[int], seed: int) -> dict[str, list[int]]:
    try:
        from fewtag.data.prepare import make_slices
    except ImportError as exc:  # pragma: no cover - until fewtag.data.prepare lands
        raise ConfigError(f"seed {seed} needs fewtag.data.prepare.make_slices, which is not "
                          f"available ({exc}); use --seeds 1") from exc
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


def _kwargs(spec: MethodSpec, cls: type, seed: int, model: str | None) -> dict[str, Any]:
    accepted, _ = _constructor_params(cls)
    kwargs = dict(spec.params)
    if model is not None and "model" in accepted and "model" not in kwargs:
        kwargs["model"] = model
    if "random_state" in accepted and "random_state" not in kwargs:
        kwargs["random_state"] = seed
    return kwargs


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
    """
    from fewtag.data.dataset import load_data

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
    y_test = data.test.y(classes).astype(bool)
    validation = (data.valid.texts, data.valid.targets(ml)) if len(data.valid) else None
    unsup = list(data.unsup.texts)
    result = BenchResult(settings=settings, data_summary=_summarize_data(data), labels=classes,
                         multi_label=ml, y_test=y_test)
    if validation is None:
        result.notes.append("the validation split is empty: decision rules were not tuned")
        say(f"note: {result.notes[-1]}")

    n_train = len(data.train)
    active = []
    for name in settings.slices:
        if name != "all" and int(name) > n_train:
            result.notes.append(f"slice {name} skipped: larger than the training split ({n_train} texts)")
            say(f"note: {result.notes[-1]}")
        else:
            active.append(name)
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
        cls = get_method(spec.name)
        kwargs = _kwargs(spec, cls, seed, settings.model)
        sl = slice_names[0]
        idx = seed_slices[seed][sl] if cls.needs_training else []
        sub = data.train.subset(idx)
        outcome = _run_one(cls, kwargs, sub.texts, sub.targets(ml), classes, ml, validation, unsup,
                           data.test.texts)
        for name in slice_names:
            size = len(seed_slices[seed][name])  # type: ignore[arg-type]
            _record(result, spec, name, size, seed, outcome, y_test, say)
    return result


def _units(jobs: list[tuple[MethodSpec, int]], active: list[str]) -> list[tuple[MethodSpec, int, list[str]]]:
    """One fit per (method, seed, slice); one per (method, seed) for zero-shot methods."""
    units = []
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


def _run_one(cls, kwargs, texts, labels, classes, ml, validation, unsup, test_texts) -> dict[str, Any]:
    _release_memory()
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        try:
            tagger = cls(**kwargs)
            tagger.fit(texts, labels, classes=classes, multi_label=ml, validation=validation,
                       unlabelled=unsup)
            t1 = time.perf_counter()
            pred = np.asarray(tagger.predict_indicator(test_texts), dtype=bool)
            t2 = time.perf_counter()
        except TaggerError as exc:
            return {"status": f"failed: {type(exc).__name__}: {exc}", "peak_mb": None}
        except Exception as exc:  # a bug in one method must not lose a long run
            return {"status": f"error: {type(exc).__name__}: {exc}", "peak_mb": None,
                    "traceback": traceback.format_exc()}
        finally:
            tagger = None  # noqa: F841 - free the model before the next run
    return {"status": "ok", "pred": pred, "train_s": t1 - t0, "predict_s": t2 - t1,
            "peak_mb": mem.peak_mb}


def _record(result: BenchResult, spec: MethodSpec, sl: str, size: int, seed: int,
            outcome: dict[str, Any], y_test: np.ndarray, say: Callable[[str], None]) -> None:
    row: dict[str, Any] = {"method": spec.display, "slice": sl, "slice_size": size, "seed": seed}
    if outcome["status"] != "ok":
        row.update({k: None for k in ("micro_f1", "macro_f1", "accuracy", "train_s", "predict_s")})
        row.update(peak_mb=outcome["peak_mb"], status=" ".join(outcome["status"].split()))
        msg = f"{spec.display} slice {sl} seed {seed}: {row['status']}"
        result.errors.append(msg)
        if "traceback" in outcome:
            result.errors.append(outcome["traceback"])
        say(msg)
        result.rows.append(row)
        return
    s = score(y_test, outcome["pred"], result.labels)
    row.update(micro_f1=s["micro_f1"], macro_f1=s["macro_f1"], accuracy=s["accuracy"],
               train_s=outcome["train_s"], predict_s=outcome["predict_s"], peak_mb=outcome["peak_mb"],
               status="ok")
    result.rows.append(row)
    result.predictions[(spec.display, sl, seed)] = outcome["pred"]
    for entry in s["per_label"]:
        result.per_label.append({"method": spec.display, "slice": sl, "slice_size": size, "seed": seed,
                                 **entry})


def bench(data: str | Path, *, out: str | Path, log: Callable[[str], None] | None = None,
          progress: Callable[..., Iterable[Any]] | None = None, **options: Any) -> BenchResult:
    """Validate, run and write a benchmark in one call; returns the result.

    ``options`` are those of :func:`make_settings` (methods, slices, seeds,
    config, model, store). Nothing is written unless the run completes.
    """
    from fewtag.eval.report import write_run

    settings = make_settings(data, out=out, **options)
    result = run_bench(settings, progress=progress, log=log)
    write_run(result)
    return result
