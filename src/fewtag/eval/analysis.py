"""Error analysis and pictures of the book's ch. 2 workflow.

* :func:`highest_loss_examples` -- the texts a tagger gets most wrong;
* :func:`projection_plot` -- embeddings projected to 2-D (UMAP when
  installed, else PCA), one panel per class;
* :func:`confusion_plot` -- a normalised confusion matrix (single-label).

Figures are PNG files written with matplotlib's Agg backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import InputError
from fewtag.eval.metrics import text_losses
from fewtag.labels import LabelInput, binarize, to_label_sets

__all__ = ["highest_loss_examples", "project_2d", "projection_plot", "confusion_plot"]


def highest_loss_examples(
    tagger: Any, texts: Sequence[str], labels: LabelInput, n: int = 10, *, scores: NDArray | None = None
) -> list[dict[str, Any]]:
    """The ``n`` texts with the highest loss under a fitted tagger (book ch. 2).

    Parameters
    ----------
    tagger : BaseTagger
        Fitted.
    texts : sequence of str, length m
    labels : sequence of str or of label lists, length m
        Gold labels (validation data, never test).
    n : int
    scores : ndarray of shape (m, n_classes), optional
        ``tagger.predict_proba(texts)`` when already computed.

    Returns
    -------
    list of dict, highest loss first, each with ``text``, ``gold`` (list),
    ``predicted`` (list), ``loss`` (float: cross-entropy for single-label
    taggers, mean binary cross-entropy for multi-label ones) and ``index``
    (position in ``texts``).

    Raises
    ------
    InputError
        When ``texts`` and ``labels`` differ in length.
    """
    texts = list(texts)
    gold = to_label_sets(list(labels))
    if len(texts) != len(gold):
        raise InputError(f"got {len(texts)} texts but {len(gold)} labels")
    y = binarize(gold, tagger.classes_)
    scores = tagger.predict_proba(texts) if scores is None else np.asarray(scores, dtype=np.float64)
    if scores.shape != y.shape:
        raise InputError(f"scores have shape {scores.shape}, expected {y.shape}")
    losses = text_losses(y, scores, multi_label=tagger.multi_label_)
    chosen = tagger.decision_.apply(scores)
    order = np.argsort(-losses, kind="stable")[:n]
    return [
        {
            "index": int(i),
            "text": texts[i],
            "gold": gold[i],
            "predicted": [tagger.classes_[j] for j in np.flatnonzero(chosen[i])],
            "loss": float(losses[i]),
        }
        for i in order
    ]


def project_2d(vectors: NDArray, *, method: str = "auto", random_state: int = 0) -> tuple[NDArray, str]:
    """Project ``vectors`` of shape ``(n, d)`` to ``(n, 2)``.

    ``method``: "umap" (needs umap-learn, not a fewtag dependency), "pca", or
    "auto" (UMAP when importable, else PCA). Returns the points and the method used.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise InputError(f"need a (n >= 2, d) matrix of vectors, got shape {x.shape}")
    if method in ("auto", "umap"):
        try:
            import umap  # type: ignore[import-not-found]

            points = umap.UMAP(n_components=2, metric="cosine", random_state=random_state).fit_transform(x)
            return np.asarray(points), "umap"
        except ImportError:
            if method == "umap":
                raise InputError("method='umap' needs umap-learn: pip install umap-learn") from None
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import MinMaxScaler

    x = MinMaxScaler().fit_transform(x)
    return PCA(n_components=2, random_state=random_state).fit_transform(x), "pca"


def projection_plot(
    vectors: NDArray,
    labels: Sequence[str] | Sequence[Sequence[str]],
    path: str | Path,
    *,
    method: str = "auto",
    classes: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Scatter of 2-D projected embeddings, one panel per class (book ch. 2, fig. 2-4).

    Parameters
    ----------
    vectors : ndarray of shape (n, d)
    labels : sequence of str (or label lists; a text appears in each of its classes' panels)
    path : str or Path
        PNG file to write.
    method : {"auto", "umap", "pca"}
    classes : sequence of str, optional
        Panel order; default the sorted labels.

    Returns
    -------
    Path of the PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = to_label_sets(list(labels))
    if len(sets) != len(vectors):
        raise InputError(f"got {len(vectors)} vectors but {len(sets)} labels")
    classes = list(classes) if classes is not None else sorted({c for s in sets for c in s})
    points, used = project_2d(vectors, method=method)
    cols = min(3, len(classes))
    rows = int(np.ceil(len(classes) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.6 * rows), squeeze=False)
    cmaps = ["Greys", "Blues", "Oranges", "Reds", "Purples", "Greens"]
    for k, (ax, name) in enumerate(zip(axes.flat, classes)):
        mask = np.array([name in s for s in sets])
        ax.scatter(points[:, 0], points[:, 1], s=2, c="0.9", linewidths=0)
        if mask.any():
            ax.hexbin(
                points[mask, 0], points[mask, 1], cmap=cmaps[k % len(cmaps)], gridsize=20, linewidths=(0,), mincnt=1
            )
        ax.set_title(f"{name} ({int(mask.sum())})")
        ax.set_xticks([]), ax.set_yticks([])
    for ax in list(axes.flat)[len(classes) :]:
        ax.axis("off")
    fig.suptitle(title or f"Embeddings projected with {used.upper()}")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def confusion_plot(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    classes: Sequence[str],
    path: str | Path,
    *,
    title: str = "Normalised confusion matrix",
) -> Path:
    """Row-normalised confusion matrix of single-label predictions as a PNG (book ch. 2).

    Counts the label pairs, then draws them with :func:`fewtag.eval.curves.plot_confusion`
    (the bench report's figure).
    """
    from fewtag.eval.curves import plot_confusion

    if len(y_true) != len(y_pred):
        raise InputError(f"got {len(y_true)} true labels but {len(y_pred)} predictions")
    index = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(y_true, y_pred):
        if t in index and p in index:
            counts[index[t], index[p]] += 1
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return plot_confusion(counts, list(classes), path, title=title)
