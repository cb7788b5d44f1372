"""Clustering, c-TF-IDF keywords and representative texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import ConfigError, InputError
from fewtag.models import DEFAULT_ENCODER

__all__ = ["Cluster", "Discovery", "discover", "ctfidf_keywords", "choose_k"]

METHODS = ("kmeans", "hdbscan")
NOISE = -1


@dataclass
class Cluster:
    """One discovered group of texts."""

    id: int
    name: str
    size: int
    keywords: list[str]
    examples: list[dict] = field(default_factory=list)  # {"id", "text"} closest to the centre


@dataclass
class Discovery:
    """What :func:`discover` found; ``assignments[i]`` is the cluster id of text i (-1: noise)."""

    method: str
    k: int
    clusters: list[Cluster]
    assignments: NDArray[np.int_]
    coords: NDArray[np.float64]  # (n, 2) map of the texts
    ids: list[str]
    texts: list[str]
    silhouette: float | None = None
    model: str = DEFAULT_ENCODER


_TOKEN = r"(?u)\b[a-zA-Z][a-zA-Z]{2,}\b"
_EXTRA_STOP = {
    "https",
    "http",
    "com",
    "www",
    "github",
    "issue",
    "issues",
    "thanks",
    "thank",
    "hello",
    "just",
    "using",
    "use",
    "used",
    "like",
    "get",
    "got",
    "want",
    "would",
    "need",
    "trying",
    "following",
    "code",
    "line",
    "file",
    "error",
    "describe",
    "expected",
    "steps",
    "reproduce",
    "behavior",
    "info",
    "version",
    "python",
    "environment",
    "true",
    "false",
    "none",
    "self",
    "return",
    "import",
}


def ctfidf_keywords(
    texts: Sequence[str], assignments: Sequence[int] | NDArray[np.integer], n: int = 5
) -> dict[int, list[str]]:
    """Top ``n`` class-based TF-IDF words per cluster (BERTopic's c-TF-IDF).

    The texts of a cluster form one document; a word scores
    ``tf(word, cluster) * log(1 + A / f(word))`` with ``A`` the mean number of
    words per cluster and ``f`` the word's frequency over all clusters.

    >>> ctfidf_keywords(["crash crash load", "crash load", "docs typo", "docs page"], [0, 0, 1, 1], 1)
    {0: ['crash'], 1: ['docs']}
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    labels = np.asarray(assignments)
    ids = [int(c) for c in np.unique(labels) if c != NOISE]
    if not ids:
        return {}
    docs = [" ".join(t for t, c in zip(texts, labels) if c == cid) for cid in ids]
    vec = CountVectorizer(token_pattern=_TOKEN, lowercase=True, stop_words=sorted(ENGLISH_STOP_WORDS | _EXTRA_STOP))
    try:
        counts = vec.fit_transform(docs).toarray().astype(float)
    except ValueError:  # no words at all
        return {cid: [] for cid in ids}
    vocab = np.array(vec.get_feature_names_out())
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    avg = counts.sum() / len(ids)
    idf = np.log(1.0 + avg / np.maximum(counts.sum(axis=0), 1.0))
    score = tf * idf
    out = {}
    for row, cid in enumerate(ids):
        order = np.lexsort((vocab, -score[row]))  # ties by word: deterministic
        out[cid] = [str(vocab[j]) for j in order[:n] if score[row, j] > 0]
    return out


def choose_k(x: NDArray, k_range: Sequence[int], seed: int = 0, sample: int = 2000) -> tuple[int, float]:
    """The KMeans k with the best silhouette (cosine) on a seeded sample of ``x``."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    xs = x if len(x) <= sample else x[rng.choice(len(x), sample, replace=False)]
    best = (int(k_range[0]), -1.0)
    for k in k_range:
        if not 2 <= k < len(xs):
            continue
        labels = KMeans(n_clusters=int(k), n_init=4, random_state=seed).fit_predict(xs)
        if len(set(labels)) < 2:
            continue
        s = float(silhouette_score(xs, labels, metric="cosine"))
        if s > best[1]:
            best = (int(k), s)
    return best


def _project(x: NDArray, seed: int, projection: str) -> NDArray:
    if projection == "auto":
        projection = "tsne" if 10 < len(x) <= 3000 else "pca"
    if projection == "tsne":
        from sklearn.manifold import TSNE

        return TSNE(
            n_components=2, random_state=seed, init="pca", perplexity=min(30.0, max(2.0, (len(x) - 1) / 3))
        ).fit_transform(x)
    if projection != "pca":
        raise ConfigError(f"projection must be auto, tsne or pca; got {projection!r}")
    from sklearn.decomposition import PCA

    if len(x) < 2:
        return np.zeros((len(x), 2))
    z = PCA(n_components=min(2, x.shape[1], len(x)), random_state=seed).fit_transform(x)
    return np.pad(z, ((0, 0), (0, 2 - z.shape[1])))


def _title(text: str, width: int = 90) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= width else first[: width - 1] + "…"


def discover(
    texts: Sequence[str],
    ids: Sequence[str] | None = None,
    *,
    k: int | str = "auto",
    method: str = "kmeans",
    model: str = DEFAULT_ENCODER,
    max_length: int = 128,
    embeddings: NDArray | None = None,
    k_range: Sequence[int] = tuple(range(4, 16)),
    min_cluster_size: int | None = None,
    n_keywords: int = 5,
    n_examples: int = 3,
    projection: str = "auto",
    seed: int = 0,
) -> Discovery:
    """Cluster the texts' embeddings and describe each cluster.

    Parameters
    ----------
    texts : sequence of str, length n
    ids : sequence of str, optional
        Shown with the representative texts (default: row numbers).
    k : int or "auto"
        KMeans clusters; ``auto`` picks the best silhouette in ``k_range``.
    method : {"kmeans", "hdbscan"}
        HDBSCAN (scikit-learn) finds the number of clusters itself and leaves
        outliers unassigned (-1).
    model, max_length : the sentence encoder (ignored when ``embeddings`` is given)
    embeddings : ndarray of shape (n, d), optional
        Precomputed unit-length embeddings.
    min_cluster_size : int, optional
        HDBSCAN's; default ``max(5, n // 50)``.
    n_keywords, n_examples : per cluster
    projection : {"auto", "tsne", "pca"}
        The 2-D map (auto: t-SNE up to 3,000 texts, else PCA).
    seed : int

    Returns
    -------
    Discovery

    Raises
    ------
    InputError
        Fewer than 3 texts, or ``k`` not below the number of texts.
    ConfigError
        Unknown method or a bad ``k``.
    """
    texts = [str(t) for t in texts]
    if len(texts) < 3:
        raise InputError(f"need at least 3 texts to cluster, got {len(texts)}")
    ids = [str(i) for i in ids] if ids is not None else [str(i) for i in range(len(texts))]
    if len(ids) != len(texts):
        raise InputError(f"got {len(texts)} texts but {len(ids)} ids")
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if k != "auto":
        try:
            k = int(k)
        except (TypeError, ValueError):
            raise ConfigError(f"k must be a number or 'auto'; got {k!r}") from None
        if not 2 <= k < len(texts):
            raise InputError(f"k must be between 2 and {len(texts) - 1} for {len(texts)} texts; got {k}")
    if embeddings is None:
        from fewtag.embed import get_encoder

        embeddings = get_encoder(model, max_length, method="discover").encode(texts)
    x = np.asarray(embeddings, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    silhouette = None
    if method == "kmeans":
        from sklearn.cluster import KMeans

        if k == "auto":
            k, silhouette = choose_k(x, [c for c in k_range if c < len(texts)] or [2], seed)
        labels = KMeans(n_clusters=int(k), n_init=10, random_state=seed).fit_predict(x)
    else:
        from sklearn.cluster import HDBSCAN
        from sklearn.decomposition import PCA

        xr = PCA(n_components=min(20, x.shape[1], len(x)), random_state=seed).fit_transform(x)
        size = min_cluster_size or max(5, len(x) // 50)
        labels = HDBSCAN(min_cluster_size=min(size, len(x) - 1), min_samples=None).fit_predict(xr)
    # renumber by size (largest first) so the output reads well and is stable
    found = [c for c in np.unique(labels) if c != NOISE]
    order = sorted(found, key=lambda c: (-int(np.sum(labels == c)), int(c)))
    remap = {old: new for new, old in enumerate(order)}
    labels = np.array([remap.get(int(c), NOISE) for c in labels])
    if silhouette is None and len(order) >= 2 and (labels != NOISE).sum() > len(order):
        from sklearn.metrics import silhouette_score

        keep = labels != NOISE
        silhouette = float(silhouette_score(x[keep], labels[keep], metric="cosine"))
    words = ctfidf_keywords(texts, labels, n_keywords)
    clusters = []
    used: set[str] = set()
    for cid in range(len(order)):
        members = np.flatnonzero(labels == cid)
        centre = x[members].mean(axis=0)
        closest = members[np.argsort(-(x[members] @ centre), kind="stable")[:n_examples]]
        kw = words.get(cid, [])
        name = "-".join(kw[:2]) or f"cluster-{cid}"
        if name in used:
            name = f"{name}-{cid}"
        used.add(name)
        clusters.append(
            Cluster(
                id=cid,
                name=name,
                size=int(len(members)),
                keywords=kw,
                examples=[{"id": ids[i], "text": _title(texts[i])} for i in closest],
            )
        )
    return Discovery(
        method=method,
        k=len(order),
        clusters=clusters,
        assignments=labels,
        coords=_project(x, seed, projection),
        ids=ids,
        texts=texts,
        silhouette=None if silhouette is None else round(silhouette, 4),
        model=str(model),
    )
