"""Train a model from a dataset, and predict for records: the work behind
``fewtag train`` and ``fewtag predict``."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from fewtag.data.dataset import PreparedDataset, load_data
from fewtag.errors import ConfigError, DataFormatError, InputError
from fewtag.methods.base import BaseTagger
from fewtag.registry import get_method

__all__ = ["parse_params", "constructor_parameters", "build_tagger", "train_model", "read_predict_input", "predict_records",
           "data_fingerprint"]


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


def constructor_parameters(method: str) -> set[str]:
    """Names of the keyword arguments a registered method's constructor takes."""
    import inspect

    return set(inspect.signature(get_method(method).__init__).parameters) - {"self"}


def build_tagger(method: str, params: dict[str, Any] | None = None, *, model: str | None = None,
                 seed: int | None = None) -> BaseTagger:
    """Instantiate a registered method; ``model`` and ``seed`` go where the constructor takes them.

    Raises
    ------
    ConfigError
        A parameter the method does not have (the message lists the ones it has).
    """
    cls = get_method(method)
    params = dict(params or {})
    accepted = constructor_parameters(method)
    if model is not None and "model" in accepted:
        params.setdefault("model", model)
    if seed is not None and "random_state" in accepted:
        params.setdefault("random_state", seed)
    unknown = set(params) - accepted
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values()):
        raise ConfigError(f"{method} has no parameter {', '.join(sorted(unknown))}; "
                          f"its parameters: {', '.join(sorted(accepted)) or 'none'}")
    return cls(**params)


def data_fingerprint(texts: list[str], labels: list[list[str]]) -> str:
    h = hashlib.sha256()
    for t, labs in zip(texts, labels):
        h.update(t.encode())
        h.update(b"\x00" + "\x01".join(labs).encode() + b"\x02")
    return h.hexdigest()[:16]


def train_model(data: str | Path | PreparedDataset, method: str, out: str | Path, *,
                params: dict[str, Any] | None = None, model: str | None = None,
                slice_name: str = "all", seed: int = 0) -> tuple[BaseTagger, dict[str, float]]:
    """Fit ``method`` on a training slice, tune on valid, score test once, save to ``out``.

    Returns
    -------
    (tagger, metrics)
        ``metrics`` has ``micro_f1``, ``macro_f1`` on test and ``train_s``.
    """
    from fewtag.eval.metrics import macro_f1, micro_f1

    tagger = build_tagger(method, params, model=model, seed=seed)  # bad names fail before any data loads
    ds = data if isinstance(data, PreparedDataset) else load_data(data, seed=seed)
    if slice_name not in ds.slices:
        raise InputError(f"slice {slice_name!r} is not in the dataset; slices: {', '.join(ds.slices)}")
    train = ds.train.subset(ds.slices[slice_name])
    start = time.perf_counter()
    tagger.fit(train.texts, train.targets(ds.multi_label), classes=ds.labels, multi_label=ds.multi_label,
               validation=(ds.valid.texts, ds.valid.targets(ds.multi_label)) if len(ds.valid) else None,
               unlabelled=ds.unsup.texts)
    train_s = time.perf_counter() - start
    metrics = {"train_s": round(train_s, 3), "train_size": len(train)}
    if len(ds.test):
        pred = tagger.predict_indicator(ds.test.texts)
        gold = ds.test.y(ds.labels)
        metrics.update(micro_f1=round(micro_f1(gold, pred), 4), macro_f1=round(macro_f1(gold, pred), 4),
                       test_size=len(ds.test))
    tagger.metadata_.update(
        metrics={"test": metrics}, data_fingerprint=data_fingerprint(train.texts, train.labels),
        trained_on={"data": str(ds.path) if ds.path else None, "slice": slice_name, "seed": seed},
    )
    tagger.save(out)
    return tagger, metrics


# ------------------------------------------------------------------ predict
def _record_text(row: dict[str, Any], where: str) -> str:
    if "text" in row:
        text = row["text"]
    elif "title" in row or "body" in row:
        title, body = row.get("title") or "", row.get("body") or ""
        text = f"{title}\n\n{body}".strip() if body else title
    else:
        raise DataFormatError(f"{where}: a record needs 'text' or 'title'/'body'")
    if not isinstance(text, str):
        raise DataFormatError(f"{where}: text is {type(text).__name__}, expected a string")
    return text


def read_predict_input(stream: TextIO, name: str) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from JSON lines (``text`` or ``title``/``body``, optional ``id``)
    or plain text lines; ids default to the line number."""
    n = 0
    for n, line in enumerate(stream, 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFormatError(f"{name}:{n}: malformed JSON line ({exc.msg})") from None
            yield str(row.get("id", row.get("number", n))), _record_text(row, f"{name}:{n}")
        else:
            yield str(n), line.rstrip("\n")


def predict_records(tagger: BaseTagger, records: Iterable[tuple[str, str]], *,
                    batch_size: int = 256, digits: int = 4) -> Iterator[dict[str, Any]]:
    """Predictions in input order: ``{"id", "labels", "scores", "abstained"}``."""
    batch: list[tuple[str, str]] = []

    def flush() -> Iterator[dict[str, Any]]:
        scores = tagger.predict_proba([t for _, t in batch])
        chosen = tagger.decision_.apply(scores)
        for (rid, _), row, pick in zip(batch, scores, chosen):
            labels = [tagger.classes_[j] for j in np.flatnonzero(pick)]
            yield {"id": rid, "labels": labels,
                   "scores": {c: round(float(s), digits) for c, s in zip(tagger.classes_, row)},
                   "abstained": not labels}

    for rec in records:
        batch.append(rec)
        if len(batch) >= batch_size:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def open_input(path: str | None) -> tuple[TextIO, str]:
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
    import io

    return io.StringIO(text), str(p)
