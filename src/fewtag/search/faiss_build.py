"""FAISS inner-product indexes: exact or IVF, with ``nprobe`` tuned for recall.

Exact inner-product search (``IndexFlatIP``; cosine on normalised vectors) is
the default; an IVF index with ``nlist ~ sqrt(n)`` is used for large stores,
its ``nprobe`` chosen as the smallest that reaches recall@10 >= 0.95 against
exact search on queries near a sample of the indexed vectors.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import ConfigError, MissingDependencyError

__all__ = [
    "IVF_AUTO_MIN",
    "RECALL_TARGET",
    "IvfMode",
    "import_faiss",
    "check_ivf",
    "build_faiss",
    "tune_nprobe",
    "recall_at_k",
    "exact_neighbours",
]

#: ``--ivf auto`` switches to an IVF index from this many vectors on.
IVF_AUTO_MIN = 20_000
#: nprobe is raised until recall@10 against exact search reaches this (on the
#: tuning sample; 0.01 above the 0.95 goal, a margin for sampling noise).
RECALL_TARGET = 0.96
IvfMode = Literal["auto", "on", "off"]


def import_faiss() -> Any:
    """The ``faiss`` module, or a :class:`MissingDependencyError` naming the extra."""
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss is installed with the encoders extra
        raise MissingDependencyError("faiss is needed for search: pip install 'fewtag[encoders]'") from exc
    return faiss


def check_ivf(ivf: str) -> IvfMode:
    """``ivf`` if it is ``auto``, ``on`` or ``off``, else a :class:`ConfigError`."""
    if ivf not in ("auto", "on", "off"):
        raise ConfigError(f"--ivf must be auto, on or off; got {ivf!r}")
    return ivf  # type: ignore[return-value]


def exact_neighbours(vectors: NDArray[np.float32], queries: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    """Ground-truth top-``k`` rows by inner product (``IndexFlatIP``)."""
    faiss = import_faiss()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return flat.search(np.ascontiguousarray(queries, dtype=np.float32), k)[1]


def tune_nprobe(
    index: Any,
    vectors: NDArray[np.float32],
    *,
    k: int = 10,
    n_queries: int = 500,
    target: float = RECALL_TARGET,
    query_noise: float = 1.0,
    seed: int = 0,
) -> tuple[int, float]:
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


def build_faiss(vectors: NDArray[np.float32], ivf: IvfMode = "auto", *, seed: int = 0) -> tuple[Any, dict[str, Any]]:
    """An exact or IVF inner-product index over ``vectors``; returns ``(index, info)``."""
    check_ivf(ivf)
    faiss = import_faiss()
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
