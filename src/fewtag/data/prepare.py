"""Turn stored issues into a benchmark-ready dataset (``fewtag prepare``).

Steps, in order: select items (repo, PRs or not), map raw labels to tags,
keep the wanted tags (or every tag with at least ``min_count`` examples),
assemble and clean the text, drop duplicate texts, move items without any kept
tag to the ``unsup`` split, split the labelled ones into train / valid / test
(iterative stratification for multi-label data, stratified for single-label),
and draw nested training slices (8, 16, 32, ... , all) as the book does.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.data.dataset import PreparedDataset, Split
from fewtag.data.store import DEFAULT_STORE, Item, Store
from fewtag.data.text import assemble_text
from fewtag.errors import ConfigError, InputError
from fewtag.io import atomic_dir, atomic_file, read_toml, write_json

__all__ = ["PrepareConfig", "load_config", "prepare", "prepare_items", "prepare_from_file",
           "make_slices", "write_prepared", "DEFAULT_SLICES"]

DEFAULT_SLICES = [8, 16, 32, 64, 128]
_SECTIONS = {
    "data": {"store", "repo", "include_prs", "files"},
    "labels": {"map", "keep", "min_count", "multi_label"},
    "text": {"clean_markdown", "code_blocks", "max_chars", "dedup"},
    "split": {"seed", "valid_size", "test_size", "slices"},
}


@dataclass
class PrepareConfig:
    """Settings of ``fewtag prepare``; the TOML file has sections [data] [labels] [text] [split].

    Attributes
    ----------
    store, repo, include_prs : where the items come from.
    files : dict, optional
        ``{"train": path, "valid": path, "test": path}`` to use predefined splits
        from files instead of the store (e.g. the emotion data set).
    map : dict
        Raw label -> tag (several raw labels may map to one tag).
    keep : list of str, optional
        Tags to keep; default every tag with at least ``min_count`` examples.
    multi_label : bool, optional
        Default: multi-label when any item has two kept tags.
    """

    store: str = DEFAULT_STORE
    repo: str | None = None
    include_prs: bool = False
    files: dict[str, str] = field(default_factory=dict)
    map: dict[str, str] = field(default_factory=dict)
    keep: list[str] | None = None
    min_count: int = 5
    multi_label: bool | None = None
    clean_markdown: bool = True
    code_blocks: str = "shorten"
    max_chars: int | None = 4000
    dedup: bool = True
    seed: int = 0
    valid_size: float = 0.25
    test_size: float = 0.25
    slices: list[int] = field(default_factory=lambda: list(DEFAULT_SLICES))

    def __post_init__(self) -> None:
        if self.code_blocks not in ("keep", "shorten", "drop"):
            raise ConfigError(f"text.code_blocks must be keep, shorten or drop; got {self.code_blocks!r}")
        for name in ("valid_size", "test_size"):
            v = getattr(self, name)
            if not 0 < v < 1:
                raise ConfigError(f"split.{name} must be between 0 and 1; got {v}")
        if self.valid_size + self.test_size >= 1:
            raise ConfigError("split.valid_size + split.test_size must leave room for training")
        if any((not isinstance(s, int)) or s < 1 for s in self.slices):
            raise ConfigError(f"split.slices must be positive integers; got {self.slices}")
        if self.min_count < 1:
            raise ConfigError(f"labels.min_count must be >= 1; got {self.min_count}")
        unknown = set(self.files) - {"train", "valid", "test", "unsup"}
        if unknown:
            raise ConfigError(f"data.files keys must be train, valid, test, unsup; got {sorted(unknown)}")


def load_config(path: str | Path | None) -> PrepareConfig:
    """Read a TOML config; unknown sections or keys are errors that list the valid ones."""
    if path is None:
        return PrepareConfig()
    path = Path(path)
    raw = read_toml(path)
    flat: dict[str, Any] = {}
    for section, values in raw.items():
        if section not in _SECTIONS or not isinstance(values, dict):
            raise ConfigError(f"{path}: unknown section [{section}]; sections: "
                              f"{', '.join(_SECTIONS)}")
        for key, value in values.items():
            if key not in _SECTIONS[section]:
                raise ConfigError(f"{path}: unknown key {section}.{key}; valid keys: "
                                  f"{', '.join(sorted(_SECTIONS[section]))}")
            flat[key] = value
    if "files" in flat:  # relative to the config file
        flat["files"] = {k: str((path.parent / v) if not Path(v).is_absolute() else v)
                         for k, v in flat["files"].items()}
    try:
        return PrepareConfig(**flat)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


# ------------------------------------------------------------------ labels
def _map_labels(items: list[Item], cfg: PrepareConfig) -> list[list[str]]:
    mapped = []
    for item in items:
        tags: list[str] = []
        for raw in item.labels:
            tag = cfg.map.get(raw, raw)
            if tag and tag not in tags:
                tags.append(tag)
        mapped.append(tags)
    return mapped


def _choose_labels(mapped: list[list[str]], cfg: PrepareConfig, notes: list[str]) -> list[str]:
    counts = Counter(t for tags in mapped for t in tags)
    if not counts:
        raise InputError("no item carries a label: nothing to learn from (import labelled data "
                         "or use a zero-shot method)")
    if cfg.keep is not None:
        missing = [t for t in cfg.keep if t not in counts]
        if missing:
            present = ", ".join(f"{t} ({n})" for t, n in counts.most_common(30))
            raise ConfigError(f"labels.keep names {', '.join(map(repr, missing))}, which no item "
                              f"carries. Labels present: {present}")
        labels = list(cfg.keep)
    else:
        labels = sorted(t for t, n in counts.items() if n >= cfg.min_count)
        dropped = sorted(t for t, n in counts.items() if n < cfg.min_count)
        if dropped:
            notes.append(f"dropped {len(dropped)} labels with fewer than {cfg.min_count} examples: "
                         + ", ".join(dropped[:20]) + (" ..." if len(dropped) > 20 else ""))
    need = 3  # one each for train, valid and test
    rare = [f"{t} ({counts[t]})" for t in labels if counts[t] < need]
    if rare:
        raise InputError(f"labels {', '.join(rare)} have fewer than {need} examples, too few for "
                         "train/valid/test splits; drop them from labels.keep or raise labels.min_count")
    if len(labels) < 2:
        raise InputError(f"need at least 2 labels, got {labels}; lower labels.min_count")
    return labels


# ------------------------------------------------------------------ splits
def _iterative_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (rest, test) by iterative stratification (Sechidis et al.), seeded."""
    from skmultilearn.model_selection import IterativeStratification

    order = np.random.RandomState(seed).permutation(len(y))
    strat = IterativeStratification(n_splits=2, order=2,
                                    sample_distribution_per_fold=[test_fraction, 1.0 - test_fraction])
    saved = np.random.get_state()  # skmultilearn breaks ties with numpy's global generator
    np.random.seed(seed)
    try:
        rest, test = next(strat.split(np.zeros((len(y), 1)), y[order]))
    finally:
        np.random.set_state(saved)
    return np.sort(order[rest]), np.sort(order[test])


def _stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=test_fraction, random_state=seed,
                                  stratify=y.argmax(axis=1))
    return np.sort(rest), np.sort(test)


def make_slices(y: np.ndarray, sizes: list[int], seed: int = 0) -> dict[str, list[int]]:
    """Nested training slices, each drawn stratified from what the smaller ones left.

    Parameters
    ----------
    y : ndarray of shape (n_train, n_classes)
        Indicator matrix of the training split.
    sizes : list of int
        Wanted sizes; sizes not smaller than ``n_train`` are left out ("all" is always added).
    seed : int

    Returns
    -------
    dict
        ``{"8": [row indices], ..., "all": [0, ..., n_train - 1]}``; actual sizes may
        differ a little from the wanted ones for multi-label data, as in the book.
    """
    n = len(y)
    multi = bool((y.sum(axis=1) != 1).any())
    out: dict[str, list[int]] = {}
    chosen: list[int] = []
    pool = np.arange(n)
    rng = np.random.RandomState(seed)
    for size in sorted(set(sizes)):
        if size >= n:
            break
        need = size - len(chosen)
        if need > 0 and len(pool) > need:
            if multi:
                rest, new = _iterative_split(y[pool], need / len(pool), int(rng.randint(2**31 - 1)))
            else:
                new, rest = _proportional_draw(y[pool], need, rng)
            chosen.extend(pool[new].tolist())
            pool = pool[rest]
        out[str(size)] = sorted(chosen)
    out["all"] = list(range(n))
    return out


def _proportional_draw(y: np.ndarray, k: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``k`` rows of single-label data, classes in proportion, each present class at least once."""
    target = y.argmax(axis=1)
    classes, counts = np.unique(target, return_counts=True)
    quota = np.maximum(1, np.floor(k * counts / counts.sum())).astype(int)
    while quota.sum() > k:
        quota[np.argmax(quota)] -= 1
    for c in np.argsort(-counts):
        if quota.sum() >= k:
            break
        quota[c] += 1
    picked = []
    for c, q in zip(classes, quota):
        members = np.flatnonzero(target == c)
        picked.extend(rng.permutation(members)[: min(q, len(members))].tolist())
    picked_arr = np.sort(np.asarray(picked, dtype=int))
    rest = np.setdiff1d(np.arange(len(y)), picked_arr)
    return picked_arr, rest


# ----------------------------------------------------------------- prepare
@dataclass
class _Prepared:
    dataset: PreparedDataset
    notes: list[str]
    summary: dict[str, Any]


def _to_split(rows: list[tuple[str, str, list[str]]]) -> Split:
    return Split([r[1] for r in rows], [r[2] for r in rows], [r[0] for r in rows])


def prepare_items(items: list[Item], cfg: PrepareConfig,
                  predefined: dict[str, list[Item]] | None = None) -> _Prepared:
    """Run every preparation step on items already read (see module docstring)."""
    notes: list[str] = []
    if not cfg.include_prs:
        n_pr = sum(i.is_pr for i in items)
        items = [i for i in items if not i.is_pr]
        if n_pr:
            notes.append(f"left out {n_pr} pull requests (data.include_prs = false)")
    if predefined:
        items = [i for part in predefined.values() for i in part]
    if not items:
        raise InputError("no items to prepare (is the store empty, or the repo name wrong?)")
    mapped = _map_labels(items, cfg)
    labels = _choose_labels(mapped, cfg, notes)
    keep = set(labels)
    rows: list[tuple[str, str, list[str]]] = []
    seen_texts: set[str] = set()
    n_dup = n_empty = 0
    for item, tags in zip(items, mapped):
        text = assemble_text(item.title, item.body, clean=cfg.clean_markdown,
                             code_blocks=cfg.code_blocks, max_chars=cfg.max_chars)
        if not text.strip():
            n_empty += 1
            continue
        key = re.sub(r"\s+", " ", text.lower()).strip()
        if cfg.dedup and key in seen_texts:
            n_dup += 1
            continue
        seen_texts.add(key)
        rows.append((f"{item.repo}#{item.id}", text, [t for t in labels if t in tags and t in keep]))
    if n_dup:
        notes.append(f"dropped {n_dup} duplicate texts")
    if n_empty:
        notes.append(f"dropped {n_empty} items with no text")
    multi = cfg.multi_label if cfg.multi_label is not None else any(len(r[2]) > 1 for r in rows)
    if not multi:
        n_multi = sum(len(r[2]) > 1 for r in rows)
        if n_multi:
            raise InputError(f"{n_multi} items carry several kept labels but labels.multi_label = false")
    labelled = [r for r in rows if r[2]]
    unsup = [(r[0], r[1], []) for r in rows if not r[2]]
    y = np.array([[int(t in r[2]) for t in labels] for r in labelled], dtype=np.int8)
    if predefined:
        ids = {f"{i.repo}#{i.id}": name for name, part in predefined.items() for i in part}
        parts = {name: [r for r in labelled if ids.get(r[0]) == name] for name in ("train", "valid", "test")}
        unsup = [r for r in unsup if ids.get(r[0]) == "unsup"] + [
            (r[0], r[1], []) for r in labelled if ids.get(r[0]) == "unsup"]
    else:
        split = _iterative_split if multi else _stratified_split
        rest, test = split(y, cfg.test_size, cfg.seed)
        tr, va = split(y[rest], cfg.valid_size / (1 - cfg.test_size), cfg.seed + 1)
        parts = {"train": [labelled[i] for i in rest[tr]], "valid": [labelled[i] for i in rest[va]],
                 "test": [labelled[i] for i in test]}
    for name in ("train", "valid", "test"):
        if not parts[name]:
            raise InputError(f"the {name} split is empty; add labelled data")
    train = _to_split(parts["train"])
    slices = make_slices(train.y(labels), cfg.slices, cfg.seed)
    skipped = [s for s in cfg.slices if str(s) not in slices]
    if skipped:
        notes.append(f"slices {skipped} are not smaller than the training split ({len(train)}); "
                     "only 'all' covers them")
    ds = PreparedDataset(labels=labels, multi_label=multi, train=train, valid=_to_split(parts["valid"]),
                         test=_to_split(parts["test"]), unsup=_to_split(unsup), slices=slices,
                         seed=cfg.seed)
    summary = {
        "labels": labels, "multi_label": multi,
        "sizes": {s: len(getattr(ds, s)) for s in ("train", "valid", "test", "unsup")},
        "slice_sizes": {k: len(v) for k, v in slices.items()},
        "counts": {s: dict(Counter(t for labs in getattr(ds, s).labels for t in labs))
                   for s in ("train", "valid", "test")},
        "notes": notes,
    }
    return _Prepared(ds, notes, summary)


def write_prepared(prepared: _Prepared, out: str | Path, cfg: PrepareConfig,
                   config_path: str | Path | None) -> Path:
    """Write the DIR layout described in :mod:`fewtag.data.dataset`, atomically."""
    ds = prepared.dataset
    with atomic_dir(out, kind="prepared") as tmp:
        for name in ("train", "valid", "test", "unsup"):
            split: Split = getattr(ds, name)
            with atomic_file(tmp / f"{name}.jsonl") as fh:
                for i, t, labs in zip(split.ids, split.texts, split.labels):
                    fh.write(json.dumps({"id": i, "text": t, "labels": labs}, ensure_ascii=False) + "\n")
        write_json(tmp / "labels.json", {"labels": ds.labels, "multi_label": ds.multi_label,
                                         "counts": prepared.summary["counts"]})
        write_json(tmp / "slices.json", {"seed": ds.seed, "sizes": cfg.slices, "slices": ds.slices})
        write_json(tmp / "prepare.json", {"config": asdict(cfg), **prepared.summary})
        if config_path is not None:
            shutil.copyfile(config_path, tmp / "config.toml")
        else:
            (tmp / "config.toml").write_text("# defaults (no --config given)\n", encoding="utf-8")
    return Path(out)


def prepare(config_path: str | Path | None, out: str | Path, *, store: str | None = None) -> _Prepared:
    """``fewtag prepare``: read the config, the store (or files), write DIR."""
    from fewtag.data.importers import read_items

    cfg = load_config(config_path)
    if store is not None:
        cfg.store = store
    predefined = None
    if cfg.files:
        predefined = {name: read_items(path) for name, path in cfg.files.items()}
        items = [i for part in predefined.values() for i in part]
    else:
        if not Path(cfg.store).is_file():
            raise InputError(f"store {cfg.store} does not exist; run `fewtag import` first")
        with Store(cfg.store) as s:
            items = list(s.items(cfg.repo))
        if not items:
            where = f" for repo {cfg.repo}" if cfg.repo else ""
            raise InputError(f"store {cfg.store} holds no items{where}; repos: "
                             f"{', '.join(Store(cfg.store).repos()) or 'none'}")
    prepared = prepare_items(items, cfg, predefined)
    prepared.dataset.path = write_prepared(prepared, out, cfg, config_path)
    return prepared


def prepare_from_file(path: str | Path, *, seed: int = 0, format: str = "auto",
                      text_fields: list[str] | None = None, label_field: str | None = None,
                      config: PrepareConfig | None = None) -> PreparedDataset:
    """Split a labelled file in memory (``fewtag bench FILE``)."""
    from fewtag.data.importers import read_items

    cfg = config or PrepareConfig(seed=seed, min_count=3, include_prs=True)
    items = read_items(path, format=format, text_fields=text_fields, label_field=label_field)
    return prepare_items(items, cfg).dataset
