"""What both engines share: the model's key in the store, one batch's predictions, the report.

An engine reads the selected, not yet predicted items of a store in chunks of
``batch_size`` (rowid order), predicts each chunk as one batch through
:func:`fewtag.pipeline.predict_records` (the model's own text path and decision
rule) and writes the chunk's predictions in one transaction. Because the
chunks are the same for every engine, so are the batches, and a model whose
scores depend on its batch (dynamic int8 quantisation) gives the same
predictions on either engine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fewtag.errors import InputError

__all__ = ["ModelKey", "TagReport", "model_key", "predict_chunk", "pack_folder", "unpack_folder"]

Chunk = Sequence[tuple[str, str, dict[str, Any]]]


@dataclass(frozen=True)
class ModelKey:
    """A model's name and content hash: the predictions table's key beside the item.

    ``hash`` is :func:`fewtag.models.model_revision` of the folder, so retraining into the same
    folder gives a new key and the new model tags everything again.
    """

    model: str
    hash: str


def model_key(folder: str | Path, name: str | None = None) -> ModelKey:
    """The key of a saved model folder (``name`` defaults to the folder's name).

    Raises
    ------
    InputError
        ``folder`` is not a folder.
    """
    from fewtag.models import model_revision

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"model folder {folder} does not exist; train one with `fewtag train`")
    return ModelKey(name or folder.resolve().name, model_revision(folder))


def predict_chunk(tagger: Any, chunk: Chunk, batch_size: int) -> list[dict[str, Any]]:
    """Predictions of one chunk of ``(repo, id, record)``: ``{"repo", "id", "labels", "scores", "abstained"}``.

    The in-process embedding cache is emptied first, so a chunk's predictions do not depend on
    which chunks this process saw before: a cached vector leaves its text out of the encoder's
    batch, and an int8 encoder's vectors depend on the batch (measured: 6 of 1,000 issues got
    other scores on Ray than locally, where another actor had seen other texts, before this).
    """
    import sys

    from fewtag.pipeline import predict_records

    cache = sys.modules.get("fewtag.embed.cache")
    if cache is not None:
        cache.EmbeddingCache.clear_memory()

    records = [(str(i), rec) for i, (_, _, rec) in enumerate(chunk)]
    out = []
    for (repo, item_id, _), pred in zip(chunk, predict_records(tagger, records, batch_size=batch_size)):
        out.append({"repo": repo, "id": item_id, **{k: v for k, v in pred.items() if k != "id"}})
    return out


@dataclass
class TagReport:
    """What one ``fewtag tag`` run did.

    ``selected`` items matched the selection, ``already`` of them were predicted by an earlier
    run (skipped), ``written`` predictions were written by this run. ``actors`` maps a Ray
    actor's process id to its peak resident memory in MiB (empty for the local engine).
    """

    engine: str
    model: str
    model_hash: str
    selected: int
    already: int
    written: int = 0
    seconds: float = 0.0
    startup_s: float = 0.0
    workers: int = 1
    busy_s: float = 0.0
    actors: dict[str, float] = field(default_factory=dict)

    @property
    def items_per_s(self) -> float:
        """Written predictions per second of the run (start-up included)."""
        return self.written / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "items_per_s": round(self.items_per_s, 2)}


class Clock:
    """Seconds since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start


def pack_folder(folder: str | Path) -> dict[str, bytes]:
    """Every file of a model folder, ``relative path -> bytes`` (the digest cache left out),
    so a Ray actor on another machine loads the very same model."""
    folder = Path(folder)
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".fewtag-digests.json"
    }


def unpack_folder(files: dict[str, bytes], dest: str | Path) -> Path:
    """Write a :func:`pack_folder` result under ``dest``; paths may not leave it."""
    dest = Path(dest).resolve()
    for rel, data in files.items():
        target = (dest / rel).resolve()
        if dest not in target.parents:
            raise InputError(f"model file {rel!r} would be written outside {dest}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest


def chunks_of(items: Iterator[Chunk], limit: int) -> Iterator[list[Chunk]]:
    """Group chunks into windows of at most ``limit`` items (at least one chunk each)."""
    window: list[Chunk] = []
    n = 0
    for chunk in items:
        window.append(chunk)
        n += len(chunk)
        if n >= limit:
            yield window
            window, n = [], 0
    if window:
        yield window
