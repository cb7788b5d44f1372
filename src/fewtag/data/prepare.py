"""Turn stored issues into a benchmark-ready dataset (``fewtag prepare``).

Steps, in order: select items (repo, PRs or not), map raw labels to tags,
keep the wanted tags (or every tag with at least ``min_count`` examples),
assemble and clean the text, drop duplicate texts, move items without any kept
tag to the ``unsup`` split, split the labelled ones into train / valid / test
(iterative stratification for multi-label data, stratified for single-label;
:mod:`fewtag.data.split`), and draw nested training slices (8, 16, 32, ... , all)
as the book does.

With predefined split files (``data.files``) de-duplication never removes a
valid or test item: a train text that also appears in valid or test is dropped
from train (and counted), duplicates inside train are dropped, and valid and
test are kept whole. The settings are :class:`~fewtag.data.config.PrepareConfig`.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.data.config import DEFAULT_SLICES, PrepareConfig, load_config
from fewtag.data.dataset import PreparedDataset, Split
from fewtag.data.split import make_slices, split_indices
from fewtag.data.store import Item, Store
from fewtag.data.text import assemble_text
from fewtag.errors import ConfigError, InputError
from fewtag.io import atomic_dir, atomic_file, write_json

__all__ = [
    "PrepareConfig",
    "load_config",
    "prepare",
    "prepare_items",
    "prepare_from_file",
    "make_slices",
    "write_prepared",
    "DEFAULT_SLICES",
]

_Row = tuple[str, str, list[str]]  # (id, text, kept tags)


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
        raise InputError(
            "no item carries a label: nothing to learn from (import labelled data or use a zero-shot method)"
        )
    if cfg.keep is not None:
        missing = [t for t in cfg.keep if t not in counts]
        if missing:
            present = ", ".join(f"{t} ({n})" for t, n in counts.most_common(30))
            raise ConfigError(
                f"labels.keep names {', '.join(map(repr, missing))}, which no item carries. Labels present: {present}"
            )
        labels = list(cfg.keep)
    else:
        labels = sorted(t for t, n in counts.items() if n >= cfg.min_count)
        dropped = sorted(t for t, n in counts.items() if n < cfg.min_count)
        if dropped:
            notes.append(
                f"dropped {len(dropped)} labels with fewer than {cfg.min_count} examples: "
                + ", ".join(dropped[:20])
                + (" ..." if len(dropped) > 20 else "")
            )
    need = 3  # one each for train, valid and test
    rare = [f"{t} ({counts[t]})" for t in labels if counts[t] < need]
    if rare:
        raise InputError(
            f"labels {', '.join(rare)} have fewer than {need} examples, too few for "
            "train/valid/test splits; drop them from labels.keep or raise labels.min_count"
        )
    if len(labels) < 2:
        raise InputError(f"need at least 2 labels, got {labels}; lower labels.min_count")
    return labels


# ----------------------------------------------------------------- prepare
@dataclass
class _Prepared:
    dataset: PreparedDataset
    notes: list[str]
    summary: dict[str, Any]


def _to_split(rows: list[_Row]) -> Split:
    return Split([r[1] for r in rows], [r[2] for r in rows], [r[0] for r in rows])


def _dedup_key(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def _dedup_predefined(parts: dict[str, list[_Row]], notes: list[str], dropped: dict[str, int]) -> None:
    """Drop duplicates from given split files, never from valid or test (in place).

    A train row whose text is in valid or test is dropped from train (``cross_split``); a
    repeat inside train, or an unsup row that repeats any other text, is a ``duplicate``.
    """
    held_out = {_dedup_key(r[1]) for name in ("valid", "test") for r in parts.get(name, [])}
    seen: set[str] = set()
    train: list[_Row] = []
    for row in parts.get("train", []):
        key = _dedup_key(row[1])
        if key in held_out:
            dropped["cross_split"] += 1
        elif key in seen:
            dropped["duplicates"] += 1
        else:
            seen.add(key)
            train.append(row)
    parts["train"] = train
    seen |= held_out
    unsup: list[_Row] = []
    for row in parts.get("unsup", []):
        key = _dedup_key(row[1])
        if key in seen:
            dropped["duplicates"] += 1
        else:
            seen.add(key)
            unsup.append(row)
    parts["unsup"] = unsup
    valid_keys = {_dedup_key(r[1]) for r in parts.get("valid", [])}
    shared = sum(_dedup_key(r[1]) in valid_keys for r in parts.get("test", []))
    if dropped["cross_split"]:
        notes.append(
            f"dropped {dropped['cross_split']} train items whose text is also in valid or test "
            "(de-duplication never removes a valid or test item)"
        )
    if shared:
        notes.append(f"{shared} test items have the same text as a valid item; both kept")


def prepare_items(items: list[Item], cfg: PrepareConfig, predefined: dict[str, list[Item]] | None = None) -> _Prepared:
    """Run every preparation step on items already read (see module docstring).

    With ``predefined`` (split name -> items, from ``data.files``) those items are used
    and ``items`` is ignored.
    """
    notes: list[str] = []
    tagged: list[tuple[Item, str | None]] = (
        [(i, name) for name, part in predefined.items() for i in part] if predefined else [(i, None) for i in items]
    )
    if not cfg.include_prs:
        n_pr = sum(i.is_pr for i, _ in tagged)
        tagged = [(i, name) for i, name in tagged if not i.is_pr]
        if n_pr:
            notes.append(f"left out {n_pr} pull requests (data.include_prs = false)")
    if not tagged:
        raise InputError("no items to prepare (is the store empty, or the repo name wrong?)")
    mapped = _map_labels([i for i, _ in tagged], cfg)
    labels = _choose_labels(mapped, cfg, notes)
    keep = set(labels)
    dropped = {"duplicates": 0, "cross_split": 0, "empty": 0}
    rows: list[_Row] = []
    where: list[str | None] = []
    seen_texts: set[str] = set()
    for (item, name), tags in zip(tagged, mapped):
        text = assemble_text(
            item.title, item.body, clean=cfg.clean_markdown, code_blocks=cfg.code_blocks, max_chars=cfg.max_chars
        )
        if not text.strip():
            dropped["empty"] += 1
            continue
        if cfg.dedup and not predefined:  # before splitting: no duplicate can cross splits
            key = _dedup_key(text)
            if key in seen_texts:
                dropped["duplicates"] += 1
                continue
            seen_texts.add(key)
        rows.append((f"{item.repo}#{item.id}", text, [t for t in labels if t in tags and t in keep]))
        where.append(name)
    multi = cfg.multi_label if cfg.multi_label is not None else any(len(r[2]) > 1 for r in rows)
    if not multi:
        n_multi = sum(len(r[2]) > 1 for r in rows)
        if n_multi:
            raise InputError(f"{n_multi} items carry several kept labels but labels.multi_label = false")
    if predefined:
        parts: dict[str, list[_Row]] = {
            name: [r for r, w in zip(rows, where) if w == name and r[2]] for name in ("train", "valid", "test")
        }
        parts["unsup"] = [(r[0], r[1], []) for r, w in zip(rows, where) if w == "unsup"]
        if cfg.dedup:
            _dedup_predefined(parts, notes, dropped)
        unsup = parts.pop("unsup")
    else:
        labelled = [r for r in rows if r[2]]
        unsup = [(r[0], r[1], []) for r in rows if not r[2]]
        y = np.array([[int(t in r[2]) for t in labels] for r in labelled], dtype=np.int8)
        rest, test = split_indices(y, cfg.test_size, cfg.seed, multi_label=multi)
        tr, va = split_indices(y[rest], cfg.valid_size / (1 - cfg.test_size), cfg.seed + 1, multi_label=multi)
        parts = {
            "train": [labelled[i] for i in rest[tr]],
            "valid": [labelled[i] for i in rest[va]],
            "test": [labelled[i] for i in test],
        }
    if dropped["duplicates"]:
        notes.append(f"dropped {dropped['duplicates']} duplicate texts")
    if dropped["empty"]:
        notes.append(f"dropped {dropped['empty']} items with no text")
    for name in ("train", "valid", "test"):
        if not parts[name]:
            raise InputError(f"the {name} split is empty; add labelled data")
    train = _to_split(parts["train"])
    slices = make_slices(train.y(labels), cfg.slices, cfg.seed)
    skipped = [s for s in cfg.slices if str(s) not in slices]
    if skipped:
        notes.append(f"slices {skipped} are not smaller than the training split ({len(train)}); only 'all' covers them")
    ds = PreparedDataset(
        labels=labels,
        multi_label=multi,
        train=train,
        valid=_to_split(parts["valid"]),
        test=_to_split(parts["test"]),
        unsup=_to_split(unsup),
        slices=slices,
        seed=cfg.seed,
    )
    summary = {
        "labels": labels,
        "multi_label": multi,
        "sizes": {s: len(getattr(ds, s)) for s in ("train", "valid", "test", "unsup")},
        "slice_sizes": {k: len(v) for k, v in slices.items()},
        "counts": {
            s: dict(Counter(t for labs in getattr(ds, s).labels for t in labs)) for s in ("train", "valid", "test")
        },
        "dropped": dropped,
        "notes": notes,
    }
    return _Prepared(ds, notes, summary)


def write_prepared(prepared: _Prepared, out: str | Path, cfg: PrepareConfig, config_path: str | Path | None) -> Path:
    """Write the DIR layout described in :mod:`fewtag.data.dataset`, atomically."""
    ds = prepared.dataset
    with atomic_dir(out, kind="prepared") as tmp:
        for name in ("train", "valid", "test", "unsup"):
            split: Split = getattr(ds, name)
            with atomic_file(tmp / f"{name}.jsonl") as fh:
                for i, t, labs in zip(split.ids, split.texts, split.labels):
                    fh.write(json.dumps({"id": i, "text": t, "labels": labs}, ensure_ascii=False) + "\n")
        write_json(
            tmp / "labels.json",
            {"labels": ds.labels, "multi_label": ds.multi_label, "counts": prepared.summary["counts"]},
        )
        write_json(tmp / "slices.json", {"seed": ds.seed, "sizes": cfg.slices, "slices": ds.slices})
        write_json(tmp / "prepare.json", {"config": asdict(cfg), **prepared.summary})
        if config_path is not None:
            shutil.copyfile(config_path, tmp / "config.toml")
        else:
            (tmp / "config.toml").write_text("# defaults (no --config given)\n", encoding="utf-8")
    return Path(out)


def _with_annotations(items: list[Item], given: dict[tuple[str, str], list[str]]) -> tuple[list[Item], int]:
    """Items whose latest kept annotation replaces their GitHub labels (annotations are tags already,
    and the config's ``map`` leaves a tag it does not name as it is); and how many changed."""
    if not given:
        return items, 0
    out = [replace(it, labels=list(given[(it.repo, it.id)])) if (it.repo, it.id) in given else it for it in items]
    return out, sum((it.repo, it.id) in given for it in items)


def prepare(config_path: str | Path | None, out: str | Path, *, store: str | None = None) -> _Prepared:
    """``fewtag prepare``: read the config, the store (or files), write DIR."""
    from fewtag.data.importers import read_items

    cfg = load_config(config_path)
    if store is not None:
        cfg.store = store
    predefined = None
    items: list[Item] = []
    if cfg.files:
        predefined = {name: read_items(path) for name, path in cfg.files.items()}
    else:
        if not Path(cfg.store).is_file():
            raise InputError(f"store {cfg.store} does not exist; run `fewtag import` first")
        with Store(cfg.store) as s:
            items = list(s.items(cfg.repo))
            repos = s.repos() if not items else []
            given = {(a.repo, a.item_id): a.labels for a in s.current_annotations()}
        if not items:
            where = f" for repo {cfg.repo}" if cfg.repo else ""
            raise InputError(f"store {cfg.store} holds no items{where}; repos: {', '.join(repos) or 'none'}")
        items, annotated = _with_annotations(items, given)
    prepared = prepare_items(items, cfg, predefined)
    if predefined is None and annotated:
        prepared.notes.append(
            f"{annotated} items take their labels from the annotations log (fewtag annotate / import)"
        )
    prepared.dataset.path = write_prepared(prepared, out, cfg, config_path)
    return prepared


def prepare_from_file(
    path: str | Path,
    *,
    seed: int = 0,
    format: str = "auto",
    text_fields: list[str] | None = None,
    label_field: str | None = None,
    config: PrepareConfig | None = None,
) -> PreparedDataset:
    """Split a labelled file in memory (``fewtag bench FILE``)."""
    from fewtag.data.importers import read_items

    cfg = config or PrepareConfig(seed=seed, min_count=3, include_prs=True)
    items = read_items(path, format=format, text_fields=text_fields, label_field=label_field)
    return prepare_items(items, cfg).dataset
