"""Error analysis and projection / confusion figures."""

from __future__ import annotations

import numpy as np
import pytest

from fewtag.errors import InputError
from fewtag.eval.analysis import confusion_plot, highest_loss_examples, project_2d, projection_plot
from fewtag.registry import get_method

PNG = b"\x89PNG\r\n\x1a\n"


def test_highest_loss_single_label():
    texts = ["crash on load", "add a flag", "segfault crash", "new option please", "crash crash"]
    tagger = get_method("tfidf-logreg")().fit(texts, ["bug", "feature", "bug", "feature", "bug"])
    gold = ["feature", "feature", "bug", "feature", "bug"]  # the first one is mislabelled
    rows = highest_loss_examples(tagger, texts, gold, n=3)
    assert len(rows) == 3
    assert set(rows[0]) == {"index", "text", "gold", "predicted", "loss"}
    assert rows[0]["index"] == 0 and rows[0]["gold"] == ["feature"] and rows[0]["predicted"] == ["bug"]
    losses = [r["loss"] for r in rows]
    assert losses == sorted(losses, reverse=True)
    p = tagger.predict_proba([texts[0]])[0]
    assert rows[0]["loss"] == pytest.approx(-np.log(p[tagger.classes_.index("feature")]), rel=1e-6)


def test_highest_loss_multi_label_uses_bce():
    texts = ["crash docs", "docs typo", "crash on start", "typo in docs"]
    labels = [["bug", "docs"], ["docs"], ["bug"], ["docs"]]
    tagger = get_method("tfidf-logreg")().fit(texts, labels)
    rows = highest_loss_examples(tagger, texts, labels, n=10)
    assert len(rows) == 4
    s = tagger.predict_proba(texts)
    y = np.array([[1, 1], [0, 1], [1, 0], [0, 1]])
    bce = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s), axis=1)
    got = {r["index"]: r["loss"] for r in rows}
    for i in range(4):
        assert got[i] == pytest.approx(bce[i], rel=1e-5)
    with pytest.raises(InputError, match="3 labels"):
        highest_loss_examples(tagger, texts, labels[:3])


def test_projection_plot_and_confusion(tmp_path):
    rng = np.random.default_rng(0)
    classes = ["joy", "anger", "fear", "love"]
    labels = [classes[i % 4] for i in range(80)]
    vectors = rng.normal(size=(80, 16)) + np.array([classes.index(c) for c in labels])[:, None]
    points, used = project_2d(vectors, method="pca")
    assert points.shape == (80, 2) and used == "pca"
    out = projection_plot(vectors, labels, tmp_path / "fig" / "proj.png", method="pca")
    assert out.read_bytes()[:8] == PNG
    cm = confusion_plot(labels, labels[1:] + labels[:1], classes, tmp_path / "cm.png")
    assert cm.read_bytes()[:8] == PNG
    with pytest.raises(InputError):
        projection_plot(vectors, labels[:10], tmp_path / "x.png")
