"""The real default encoder (all-MiniLM-L6-v2, offline): methods learn a small separable problem."""

from __future__ import annotations

import pytest

from fewtag import get_method
from fewtag.registry import load_tagger

pytestmark = pytest.mark.slow

TRAIN = [
    ("The app crashes with a segmentation fault when I open a file", "bug"),
    ("Error: traceback raised when loading the dataset", "bug"),
    ("Installation fails with an exception on Windows", "bug"),
    ("The program freezes and then crashes on startup", "bug"),
    ("It would be great to support exporting to CSV", "feature"),
    ("Please add a dark mode option to the settings", "feature"),
    ("Feature request: allow custom keyboard shortcuts", "feature"),
    ("Could you add support for YAML configuration files?", "feature"),
    ("The README has a typo in the installation section", "docs"),
    ("Documentation for the API parameters is missing", "docs"),
    ("Improve the tutorial with an example of streaming", "docs"),
    ("The docstring of load() describes the wrong return type", "docs"),
]
TEST = [
    ("Segfault when saving a large project", "bug"),
    ("Add an option to hide the toolbar", "feature"),
    ("Fix the broken link in the docs", "docs"),
    ("Crash with a null pointer exception after the update", "bug"),
    ("Support for exporting as PDF would be nice", "feature"),
    ("The user guide does not explain how to configure logging", "docs"),
]


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.mark.parametrize(
    "name,params",
    [
        ("knn", {"k": 3}),
        ("embed-logreg", {}),
        (
            "zero-shot-embed",
            {
                "template": "This issue is a {label}.",
                "descriptions": {
                    "bug": "crash or error",
                    "feature": "a request for something new",
                    "docs": "documentation",
                },
            },
        ),
        ("setfit", {"num_iterations": 5}),
    ],
)
def test_minilm_learns_a_small_problem(name, params, tmp_path):
    texts, labels = zip(*TRAIN)
    test_texts, test_labels = zip(*TEST)
    tagger = get_method(name)(**params)
    if tagger.needs_training:
        tagger.fit(texts, labels)
    else:
        tagger.fit([], [], classes=sorted(set(labels)))
    assert tagger.metadata_["encoder"]["id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert tagger.metadata_["encoder"]["dim"] == 384
    predicted = [p[0] for p in tagger.predict(list(test_texts))]
    correct = sum(p == t for p, t in zip(predicted, test_labels))
    assert correct >= 5, (name, predicted)
    loaded = load_tagger(tagger.save(tmp_path / name))
    assert [p[0] for p in loaded.predict(list(test_texts))] == predicted


def test_minilm_multi_label_knn_and_setfit(tmp_path):
    texts = [t for t, _ in TRAIN] + [
        "Crash in the docs build: sphinx raises an error",
        "Please document the new export feature",
    ]
    labels = [[lab] for _, lab in TRAIN] + [["bug", "docs"], ["feature", "docs"]]
    for name, params in (("knn", {"k": 1}), ("setfit", {"num_iterations": 5})):
        tagger = get_method(name)(**params).fit(texts, labels)
        assert tagger.multi_label_
        pred = tagger.predict(["Segfault when saving a large project", "Add an option to hide the toolbar"])
        assert "bug" in pred[0] and "feature" in pred[1], (name, pred)


@pytest.mark.parametrize("backend", ["torch-bf16", "onnx", "onnx-int8"])
def test_minilm_backends_agree_with_torch(backend, tmp_path, monkeypatch):
    """The faster backends give the fp32 vectors (onnx) or close ones, and the same predictions."""

    from fewtag.embed import clear_encoders, get_encoder

    monkeypatch.setenv("FEWTAG_CACHE_DIR", str(tmp_path))
    clear_encoders()
    texts = [t for t, _ in TEST]
    reference = get_encoder("sentence-transformers/all-MiniLM-L6-v2", 128, backend="torch").encode(texts)
    fast = get_encoder("sentence-transformers/all-MiniLM-L6-v2", 128, backend=backend).encode(texts)
    cosines = (fast * reference).sum(axis=1)
    assert cosines.min() > (0.99999 if backend == "onnx" else 0.97), cosines
    tagger = get_method("embed-logreg")(backend=backend).fit([t for t, _ in TRAIN], [y for _, y in TRAIN])
    assert tagger.metadata_["encoder"]["backend"] == backend
    assert tagger.predict(texts) == [[y] for _, y in TEST]
    clear_encoders()
