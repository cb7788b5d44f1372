"""Build or update the search index of a store, resumably.

:func:`build_index` embeds only what it must: the vectors of issues whose text
is unchanged come from the saved index (when it was built with the same encoder
id, content-hash revision and ``max_length``), and those committed by an
earlier run that did not finish come from the store. Every batch of new
vectors is committed to the store's ``embeddings`` table (its own transaction,
under :func:`fewtag.search.encoder.vector_key`) as soon as it is computed, so
``fewtag index`` killed mid-run loses at most the batch in flight: a rerun
encodes only the rest. Once the index folder is saved those checkpoint rows
are dropped (``vectors.npy`` holds them).

The other jobs live beside this one: :mod:`fewtag.search.encoder` (the
encoder), :mod:`fewtag.search.faiss_build` (FAISS build and ``nprobe``
tuning), :mod:`fewtag.search.persist` (the index folder),
:mod:`fewtag.search.searcher` (queries). All SQL is :class:`fewtag.data.store.Store`'s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.data.store import Item, Store
from fewtag.errors import InputError, ModelFileError
from fewtag.search.encoder import Encoder, vector_key
from fewtag.search.faiss_build import IvfMode, build_faiss, check_ivf
from fewtag.search.persist import SearchIndex, index_folder

__all__ = ["BuildReport", "build_index", "item_text", "text_hash"]


def text_hash(text: str) -> str:
    """A short stable hash of an issue's indexed text (the first 20 hex digits of its sha256)."""
    return _sha256(text)[:20]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def item_text(item: Item, *, comments: Sequence[str] = ()) -> str:
    """Title + body (the book's text), then the comments when asked for."""
    text = item.text
    if comments:
        text = text + "\n\n" + "\n\n".join(c for c in comments if c)
    return text


@dataclass
class BuildReport:
    """What ``build_index`` did.

    ``n_embedded`` vectors were computed by this run, ``n_reused`` came from
    the saved index and ``n_resumed`` from the checkpoint of an earlier run
    that did not finish.
    """

    path: str
    n_items: int
    n_embedded: int
    n_reused: int
    n_removed: int
    kind: str
    model_id: str
    fingerprint: str
    nlist: int | None = None
    nprobe: int | None = None
    recall_at_10: float | None = None
    n_resumed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fingerprint(keys: Iterable[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for k in keys:
        h.update(f"{k['repo']}\0{k['id']}\0{k['hash']}\n".encode())
    return h.hexdigest()[:16]


def _reusable(folder: Path, encoder: Encoder, comments: bool) -> dict[tuple[str, str], tuple[str, NDArray[np.float32]]]:
    """``(repo, id) -> (text hash, vector)`` of a saved index built with this very encoder."""
    if not (folder / "meta.json").is_file():
        return {}
    try:
        prev = SearchIndex.load(folder)
    except ModelFileError:  # a corrupt index is rebuilt
        return {}
    meta, max_length = prev.meta, getattr(encoder, "max_length", None)
    if (
        not encoder.revision
        or meta.get("model_id") != encoder.model_id
        or meta.get("revision") != encoder.revision
        or meta.get("max_length", max_length) != max_length
        or bool(meta.get("comments")) != comments
    ):
        return {}
    return {(k["repo"], str(k["id"])): (k["hash"], prev.vectors[i]) for i, k in enumerate(prev.keys)}


def build_index(
    store: Store,
    encoder: Encoder,
    *,
    folder: str | Path | None = None,
    comments: bool = False,
    ivf: IvfMode = "auto",
    include_prs: bool = False,
    batch_size: int = 64,
    progress: Callable[[Iterable[Any], str, int], Iterable[Any]] | None = None,
    encode_batches: Callable[[list[list[str]]], Iterable[tuple[int, NDArray[np.float32]]]] | None = None,
) -> tuple[SearchIndex, BuildReport]:
    """Build or update the index of ``store``'s issues and save it.

    Only new or edited issues (text hash changed) are embedded again; the
    vectors of unchanged ones are reused when the encoder id, revision and
    ``max_length`` match the saved index. Each batch of new vectors is
    committed to the store before the next one is computed, so an interrupted
    run is resumed by the next one (see the module docstring).

    Parameters
    ----------
    store : Store
    encoder : Encoder
        ``encode(texts) -> (n, dim)`` L2-normalised float32, plus ``model_id`` and ``revision``.
    folder : path, optional
        Default ``<store>.index``.
    comments : bool
        Append comment bodies to the indexed text (when the store has them).
    ivf : {"auto", "on", "off"}
        ``auto`` uses IVF from :data:`~fewtag.search.faiss_build.IVF_AUTO_MIN` vectors on.
    include_prs : bool
        Index pull requests too.
    batch_size : int
        Texts per encoder call, and per checkpoint commit.
    progress : callable, optional
        ``progress(iterable, description, total)`` wrapping the embedding batches.
    encode_batches : callable, optional
        ``encode_batches(batches of texts)`` yielding ``(batch number, vectors)`` in any order, in
        place of ``encoder.encode`` batch by batch (``fewtag index --engine ray``:
        :func:`fewtag.engine.ray_engine.encode_with_ray`); it must compute ``encoder``'s vectors.

    Returns
    -------
    (SearchIndex, BuildReport)

    Raises
    ------
    InputError
        The store holds no issues.
    ConfigError
        ``ivf`` is not auto, on or off.
    """
    check_ivf(ivf)
    if store.path == ":memory:" and folder is None:
        raise InputError("an in-memory store needs an explicit index folder")
    folder = Path(folder) if folder is not None else index_folder(store.path)
    items = list(store.items(include_prs=include_prs))
    if not items:
        raise InputError(
            f"the store {store.path} holds no issues to index; import some first (fewtag import / fewtag fetch)"
        )
    with_comments = comments and store.has_table("comments")
    texts = [item_text(it, comments=store.comment_bodies(it.repo, it.id) if with_comments else ()) for it in items]
    digests = [_sha256(t) for t in texts]
    keys = [
        {"repo": it.repo, "id": it.id, "number": it.number, "hash": d[:20], "updated_at": it.updated_at}
        for it, d in zip(items, digests)
    ]

    old = _reusable(folder, encoder, comments)
    vectors: list[NDArray[np.float32] | None] = []
    for k in keys:
        prev = old.get((str(k["repo"]), str(k["id"])))
        vectors.append(prev[1] if prev is not None and prev[0] == k["hash"] else None)
    n_reused = sum(v is not None for v in vectors)

    # vectors an interrupted run committed (same encoder revision and max_length); an encoder
    # without a revision (weights only in memory) is never checkpointed nor reused
    checkpoint = vector_key(encoder) if encoder.revision else None
    missing = [i for i, v in enumerate(vectors) if v is None]
    saved = store.get_embeddings(*checkpoint, list(dict.fromkeys(digests[i] for i in missing))) if checkpoint else {}
    for i in missing:
        vectors[i] = saved.get(digests[i])
    todo = [i for i in missing if vectors[i] is None]
    n_resumed = len(missing) - len(todo)

    batches = [todo[s : s + batch_size] for s in range(0, len(todo), batch_size)]
    if encode_batches is None:
        done: Iterable[tuple[int, Any]] = ((n, encoder.encode([texts[i] for i in b])) for n, b in enumerate(batches))
    else:
        done = encode_batches([[texts[i] for i in b] for b in batches])
    for n, vecs in progress(done, "Embedding", len(batches)) if progress else done:
        rows = batches[n]
        emb = np.asarray(vecs, dtype=np.float32)
        if emb.shape[0] != len(rows):
            raise RuntimeError(f"encoder returned {emb.shape[0]} vectors for {len(rows)} texts")
        if checkpoint:  # one commit per batch
            store.put_embeddings(*checkpoint, {digests[i]: v for i, v in zip(rows, emb)})
        for i, v in zip(rows, emb):
            vectors[i] = v
    matrix = np.vstack(vectors).astype(np.float32)  # type: ignore[arg-type]
    index, info = build_faiss(matrix, ivf)
    meta: dict[str, Any] = {
        "model_id": encoder.model_id,
        "revision": encoder.revision,
        "max_length": getattr(encoder, "max_length", None),
        "dim": int(matrix.shape[1]),
        "n": len(keys),
        "comments": comments,
        "include_prs": include_prs,
        "fingerprint": _fingerprint(keys),
        **info,
    }
    search_index = SearchIndex(index, keys, matrix, meta)
    current = {(k["repo"], k["id"]) for k in keys}
    report = BuildReport(
        path=str(folder),
        n_items=len(keys),
        n_embedded=len(todo),
        n_reused=n_reused,
        n_removed=sum(1 for key in old if key not in current),
        kind=info["kind"],
        model_id=encoder.model_id,
        fingerprint=meta["fingerprint"],
        nlist=info.get("nlist"),
        nprobe=info.get("nprobe"),
        recall_at_10=info.get("recall_at_10"),
        n_resumed=n_resumed,
    )
    search_index.save(folder)
    if checkpoint:
        store.delete_embeddings(*checkpoint)  # vectors.npy holds them now
    return search_index, report


# Names that lived in this module before it was split by job; kept importable from here.
_MOVED = {
    "Encoder": "fewtag.search.encoder",
    "load_encoder": "fewtag.search.encoder",
    "SearchIndex": "fewtag.search.persist",
    "index_folder": "fewtag.search.persist",
    "open_index": "fewtag.search.persist",
    "INDEX_SUFFIX": "fewtag.search.persist",
    "Hit": "fewtag.search.searcher",
    "Searcher": "fewtag.search.searcher",
    "parse_issue_ref": "fewtag.search.searcher",
    "IVF_AUTO_MIN": "fewtag.search.faiss_build",
    "RECALL_TARGET": "fewtag.search.faiss_build",
    "IvfMode": "fewtag.search.faiss_build",
    "build_faiss": "fewtag.search.faiss_build",
    "tune_nprobe": "fewtag.search.faiss_build",
    "recall_at_k": "fewtag.search.faiss_build",
    "exact_neighbours": "fewtag.search.faiss_build",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
