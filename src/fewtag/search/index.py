"""A FAISS index over the store's issues, persisted next to the store.

The index lives in a folder beside the SQLite store (``fewtag.db`` ->
``fewtag.db.index/``) and holds

* ``index.faiss`` -- the FAISS index (written with ``faiss.write_index``);
* ``vectors.npy`` -- the L2-normalised float32 vectors, row ``i`` for key ``i``
  (kept so that a rerun only embeds new or edited issues);
* ``ids.json`` -- one ``{"repo", "id", "number", "hash", "updated_at"}`` per row;
* ``meta.json`` -- encoder id and revision, dimension, data fingerprint, the
  index kind (``flat`` or ``ivf`` with ``nlist``, ``nprobe`` and measured
  recall@10 against exact search) and the tuned duplicate threshold.

Exact inner-product search (``IndexFlatIP``; cosine on normalised vectors) is
the default; an IVF index with ``nlist ~ sqrt(n)`` is used for large stores,
its ``nprobe`` chosen as the smallest that reaches recall@10 >= 0.95 against
exact search on queries near a sample of the indexed vectors.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from fewtag.data.store import Item, Store
from fewtag.errors import ConfigError, InputError, MissingDependencyError, ModelFileError
from fewtag.io import atomic_dir, read_json, write_json

__all__ = [
    "Encoder", "Hit", "BuildReport", "SearchIndex", "Searcher", "build_index", "index_folder",
    "open_index", "load_encoder", "item_text", "text_hash", "parse_issue_ref", "IVF_AUTO_MIN",
    "build_faiss", "tune_nprobe", "exact_neighbours",
]

#: ``--ivf auto`` switches to an IVF index from this many vectors on.
IVF_AUTO_MIN = 20_000
#: nprobe is raised until recall@10 against exact search reaches this (on the
#: tuning sample; 0.01 above the 0.95 goal, a margin for sampling noise).
RECALL_TARGET = 0.96
INDEX_SUFFIX = ".index"
IvfMode = Literal["auto", "on", "off"]


class Encoder(Protocol):
    """What search needs from an encoder (``fewtag.embed.get_encoder`` returns one)."""

    model_id: str
    revision: str

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """L2-normalised float32 vectors of shape ``(len(texts), dim)``."""
        ...


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss is installed with the encoders extra
        raise MissingDependencyError(
            "faiss is needed for search: pip install 'fewtag[encoders]'") from exc
    return faiss


def load_encoder(model_id: str | None = None, *, max_length: int = 256) -> Encoder:
    """The sentence encoder used to embed issues and queries.

    Parameters
    ----------
    model_id : str, optional
        Hugging Face id or local folder; default the offline MiniLM encoder.
    max_length : int
        Tokens kept per text.

    Raises
    ------
    MissingDependencyError
        When the encoder extra (torch, sentence-transformers) is not installed.
    """
    try:
        from fewtag.embed import get_encoder
    except ImportError as exc:
        raise MissingDependencyError(
            "search needs the sentence encoders: pip install 'fewtag[encoders]' "
            f"({exc})") from exc
    from fewtag.models import DEFAULT_ENCODER

    return get_encoder(model_id or DEFAULT_ENCODER, max_length=max_length)


def index_folder(store_path: str | Path) -> Path:
    """The index folder that belongs to a store file: ``<store>.index``."""
    p = Path(store_path)
    return p.with_name(p.name + INDEX_SUFFIX)


def text_hash(text: str) -> str:
    """A short stable hash of an issue's indexed text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def item_text(item: Item, *, comments: Sequence[str] = ()) -> str:
    """Title + body (the book's text), then the comments when asked for."""
    text = item.text
    if comments:
        text = text + "\n\n" + "\n\n".join(c for c in comments if c)
    return text


def _comments_of(store: Store, item: Item) -> list[str]:
    """Comment bodies when the store keeps comments (the GitHub fetch adds a ``comments`` table)."""
    has = store.conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='comments'").fetchone()
    if not has:
        return []
    rows = store.conn.execute(
        "SELECT body FROM comments WHERE repo=? AND issue_id=? ORDER BY created_at, id",
        (item.repo, item.id))
    return [r[0] for r in rows if r[0]]


def parse_issue_ref(ref: str) -> tuple[str, str]:
    """``"owner/repo#12"`` -> ``("owner/repo", "12")``.

    >>> parse_issue_ref("huggingface/datasets#7016")
    ('huggingface/datasets', '7016')
    """
    repo, sep, number = ref.strip().rpartition("#")
    if not sep or not repo or "/" not in repo or not number:
        raise InputError(f"expected an issue reference like OWNER/REPO#N, got {ref!r}")
    return repo, number


@dataclass
class Hit:
    """One search result."""

    repo: str
    id: str
    number: int | None
    title: str
    score: float
    url: str | None = None
    labels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(float(self.score), 6)
        return d


@dataclass
class BuildReport:
    """What ``build_index`` did."""

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------ FAISS
def exact_neighbours(vectors: NDArray[np.float32], queries: NDArray[np.float32],
                     k: int) -> NDArray[np.int64]:
    """Ground-truth top-``k`` rows by inner product (``IndexFlatIP``)."""
    faiss = _faiss()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return flat.search(np.ascontiguousarray(queries, dtype=np.float32), k)[1]


def tune_nprobe(index: Any, vectors: NDArray[np.float32], *, k: int = 10, n_queries: int = 500,
                target: float = RECALL_TARGET, query_noise: float = 1.0, seed: int = 0) -> tuple[int, float]:
    """Smallest power-of-two ``nprobe`` whose recall@k against exact reaches ``target``.

    Queries are sampled indexed vectors moved by Gaussian noise of norm about
    ``query_noise`` and renormalised (cosine ~0.7 to their source, like a
    free-text query to the issue it finds); an indexed vector itself would be
    too easy a query (it always lies in its own list). Returns ``(nprobe, recall)``.
    """
    rng = np.random.default_rng(seed)
    n, d = vectors.shape
    k = min(k, n)
    q = vectors[rng.choice(n, size=min(n_queries, n), replace=False)]
    q = q + (query_noise / math.sqrt(d)) * rng.normal(size=q.shape).astype(np.float32)
    q = np.ascontiguousarray(q / np.linalg.norm(q, axis=1, keepdims=True), dtype=np.float32)
    truth = exact_neighbours(vectors, q, k)
    nprobe, recall = 1, 0.0
    while True:
        index.nprobe = nprobe
        found = index.search(q, k)[1]
        recall = recall_at_k(found, truth)
        if recall >= target or nprobe >= index.nlist:
            return nprobe, recall
        nprobe = min(nprobe * 2, index.nlist)


def recall_at_k(found: NDArray[np.int64], truth: NDArray[np.int64]) -> float:
    """Mean fraction of the true top-k rows that were found."""
    k = truth.shape[1]
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth))
    return hits / (k * len(truth)) if len(truth) else 1.0


def build_faiss(vectors: NDArray[np.float32], ivf: IvfMode = "auto", *,
                seed: int = 0) -> tuple[Any, dict[str, Any]]:
    """An exact or IVF inner-product index over ``vectors``; returns ``(index, info)``."""
    if ivf not in ("auto", "on", "off"):
        raise ConfigError(f"--ivf must be auto, on or off; got {ivf!r}")
    faiss = _faiss()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    use_ivf = n > 1 and (ivf == "on" or (ivf == "auto" and n >= IVF_AUTO_MIN))
    if not use_ivf:
        index = faiss.IndexFlatIP(d)
        index.add(vectors)
        return index, {"kind": "flat"}
    # nlist ~ sqrt(n), but at least 39 training points per list (FAISS's floor)
    nlist = max(1, min(int(round(math.sqrt(n))), n // 39))
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    index.train(vectors)
    index.add(vectors)
    nprobe, recall = tune_nprobe(index, vectors, seed=seed)
    index.nprobe = nprobe
    return index, {"kind": "ivf", "nlist": nlist, "nprobe": nprobe, "recall_at_10": round(recall, 4)}


# ------------------------------------------------------------------ index
class SearchIndex:
    """Vectors of the store's issues and the FAISS index over them.

    Attributes
    ----------
    keys : list of dict
        ``{"repo", "id", "number", "hash", "updated_at"}`` per row.
    vectors : ndarray of shape (n, dim), float32
    meta : dict
        Encoder id and revision, fingerprint, index kind, duplicate threshold.
    """

    def __init__(self, index: Any, keys: list[dict[str, Any]], vectors: NDArray[np.float32],
                 meta: dict[str, Any]):
        self.index = index
        self.keys = keys
        self.vectors = vectors
        self.meta = meta
        self._pos = {(k["repo"], str(k["id"])): i for i, k in enumerate(keys)}

    def __len__(self) -> int:
        return len(self.keys)

    def position(self, repo: str, item_id: str | int) -> int | None:
        return self._pos.get((repo, str(item_id)))

    def search(self, queries: NDArray[np.float32], k: int) -> list[list[tuple[int, float]]]:
        """Top-``k`` ``(row, score)`` pairs per query row (scores are cosines)."""
        if len(self) == 0:
            return [[] for _ in range(len(queries))]
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if q.shape[1] != self.vectors.shape[1]:
            raise InputError(f"query vectors have dimension {q.shape[1]}, the index "
                             f"{self.vectors.shape[1]}; rebuild the index with the same encoder")
        scores, rows = self.index.search(q, min(k, len(self)))
        return [[(int(r), float(s)) for r, s in zip(rr, ss) if r >= 0] for rr, ss in zip(rows, scores)]

    def save(self, folder: str | Path) -> Path:
        """Write the index folder atomically."""
        faiss = _faiss()
        folder = Path(folder)
        with atomic_dir(folder) as tmp:
            faiss.write_index(self.index, str(tmp / "index.faiss"))
            np.save(tmp / "vectors.npy", self.vectors, allow_pickle=False)
            write_json(tmp / "ids.json", self.keys)
            write_json(tmp / "meta.json", self.meta)
        return folder

    def save_meta(self, folder: str | Path) -> None:
        """Rewrite only ``meta.json`` (after tuning the duplicate threshold)."""
        write_json(Path(folder) / "meta.json", self.meta)

    @classmethod
    def load(cls, folder: str | Path) -> "SearchIndex":
        """Read an index folder written by :meth:`save`.

        Raises
        ------
        ModelFileError
            Missing or corrupt files.
        """
        faiss = _faiss()
        folder = Path(folder)
        if not (folder / "meta.json").is_file():
            raise ModelFileError(f"no search index at {folder}; build one with `fewtag index`")
        try:
            meta = read_json(folder / "meta.json")
            keys = read_json(folder / "ids.json")
            vectors = np.load(folder / "vectors.npy", allow_pickle=False).astype(np.float32)
            index = faiss.read_index(str(folder / "index.faiss"))
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelFileError(f"the search index at {folder} is corrupt ({exc}); "
                                 "rebuild it with `fewtag index`") from exc
        if len(keys) != vectors.shape[0] or index.ntotal != len(keys):
            raise ModelFileError(f"the search index at {folder} is inconsistent "
                                 f"({len(keys)} ids, {vectors.shape[0]} vectors, {index.ntotal} "
                                 "indexed); rebuild it with `fewtag index`")
        if meta.get("kind") == "ivf" and meta.get("nprobe"):
            index.nprobe = int(meta["nprobe"])
        return cls(index, keys, vectors, meta)


def open_index(store_path: str | Path) -> SearchIndex:
    """Load the index that belongs to a store file."""
    return SearchIndex.load(index_folder(store_path))


def _fingerprint(keys: Iterable[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for k in keys:
        h.update(f"{k['repo']}\0{k['id']}\0{k['hash']}\n".encode())
    return h.hexdigest()[:16]


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
) -> tuple[SearchIndex, BuildReport]:
    """Build or update the index of ``store``'s issues and save it.

    Only new or edited issues (text hash changed) are embedded again; the
    vectors of unchanged ones are reused when the encoder id and revision
    match the saved index.

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
        ``auto`` uses IVF from :data:`IVF_AUTO_MIN` vectors on.
    include_prs : bool
        Index pull requests too.
    batch_size : int
    progress : callable, optional
        ``progress(iterable, description, total)`` wrapping the embedding batches.

    Returns
    -------
    (SearchIndex, BuildReport)

    Raises
    ------
    InputError
        The store holds no issues.
    """
    if ivf not in ("auto", "on", "off"):
        raise ConfigError(f"--ivf must be auto, on or off; got {ivf!r}")
    if store.path == ":memory:" and folder is None:
        raise InputError("an in-memory store needs an explicit index folder")
    folder = Path(folder) if folder is not None else index_folder(store.path)
    items = [it for it in store.items(include_prs=include_prs)]
    if not items:
        raise InputError(f"the store {store.path} holds no issues to index; import some first "
                         "(fewtag import / fewtag fetch)")
    texts = [item_text(it, comments=_comments_of(store, it) if comments else ()) for it in items]
    keys = [{"repo": it.repo, "id": it.id, "number": it.number, "hash": text_hash(t),
             "updated_at": it.updated_at} for it, t in zip(items, texts)]

    old: dict[tuple[str, str], tuple[str, NDArray[np.float32]]] = {}
    if (folder / "meta.json").is_file():
        try:
            prev = SearchIndex.load(folder)
        except ModelFileError:
            prev = None
        if prev is not None and prev.meta.get("model_id") == encoder.model_id \
                and prev.meta.get("revision") == encoder.revision \
                and prev.meta.get("max_length", getattr(encoder, "max_length", None)) \
                == getattr(encoder, "max_length", None) \
                and bool(prev.meta.get("comments")) == comments:
            old = {(k["repo"], str(k["id"])): (k["hash"], prev.vectors[i])
                   for i, k in enumerate(prev.keys)}
    todo = [i for i, k in enumerate(keys) if old.get((k["repo"], k["id"]), ("",))[0] != k["hash"]]
    vectors: list[NDArray[np.float32] | None] = [
        None if old.get((k["repo"], k["id"]), ("",))[0] != k["hash"] else old[(k["repo"], k["id"])][1]
        for k in keys]
    batches = [todo[s:s + batch_size] for s in range(0, len(todo), batch_size)]
    it_batches: Iterable[list[int]] = progress(batches, "Embedding", len(batches)) if progress \
        else batches
    for rows in it_batches:
        emb = np.asarray(encoder.encode([texts[i] for i in rows]), dtype=np.float32)
        if emb.shape[0] != len(rows):
            raise RuntimeError(f"encoder returned {emb.shape[0]} vectors for {len(rows)} texts")
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
        path=str(folder), n_items=len(keys), n_embedded=len(todo), n_reused=len(keys) - len(todo),
        n_removed=sum(1 for key in old if key not in current), kind=info["kind"],
        model_id=encoder.model_id, fingerprint=meta["fingerprint"], nlist=info.get("nlist"),
        nprobe=info.get("nprobe"), recall_at_10=info.get("recall_at_10"))
    search_index.save(folder)
    return search_index, report


# --------------------------------------------------------------- queries
class Searcher:
    """An index, its encoder and its store, ready to answer queries.

    Examples
    --------
    >>> searcher = Searcher(store, encoder)          # doctest: +SKIP
    >>> searcher.query("load_dataset hangs", k=5)    # doctest: +SKIP
    """

    def __init__(self, store: Store, encoder: Encoder | None = None, *,
                 index: SearchIndex | None = None):
        self.store = store
        self.index = index if index is not None else open_index(store.path)
        meta = self.index.meta
        if encoder is None:
            encoder = load_encoder(meta.get("model_id"), max_length=meta.get("max_length") or 256)
        elif encoder.model_id != meta.get("model_id"):
            raise ConfigError(f"the index was built with {meta.get('model_id')!r}, the query "
                              f"encoder is {encoder.model_id!r}; rebuild with `fewtag index --model`")
        self.encoder = encoder

    @property
    def duplicate_threshold(self) -> float | None:
        t = self.index.meta.get("duplicate", {}).get("threshold")
        return None if t is None else float(t)

    def _hits(self, pairs: list[tuple[int, float]]) -> list[Hit]:
        hits = []
        for row, score in pairs:
            key = self.index.keys[row]
            item = self.store.get_item(key["repo"], key["id"])
            hits.append(Hit(repo=key["repo"], id=str(key["id"]), number=key.get("number"),
                            title=item.title if item else "", score=score,
                            url=item.url if item else None, labels=item.labels if item else []))
        return hits

    def query_many(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Nearest issues for each free-text query."""
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        queries = list(queries)
        if not queries:
            return []
        vecs = np.asarray(self.encoder.encode(queries), dtype=np.float32)
        return [self._hits(p) for p in self.index.search(vecs, k)]

    def query(self, query: str, k: int = 10) -> list[Hit]:
        """Nearest issues for one free-text query."""
        if not query.strip():
            raise InputError("the search query is empty")
        return self.query_many([query], k)[0]

    def similar(self, repo: str, item_id: str | int, k: int = 10) -> list[Hit]:
        """Nearest issues to a stored issue, itself excluded."""
        row = self.index.position(repo, item_id)
        if row is not None:
            vec = self.index.vectors[row:row + 1]
        else:
            item = self.store.get_item(repo, item_id)
            if item is None:
                raise InputError(f"{repo}#{item_id} is not in the store {self.store.path}; "
                                 "fetch or import it first")
            vec = np.asarray(self.encoder.encode([item.text]), dtype=np.float32)
        pairs = self.index.search(vec, k + 1)[0]
        pairs = [(r, s) for r, s in pairs if r != row][:k]
        return self._hits(pairs)
