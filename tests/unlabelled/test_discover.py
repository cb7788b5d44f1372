"""discover finds planted clusters, names them by keywords and writes its files."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest
from typer.testing import CliRunner

from fewtag.discover import ctfidf_keywords, discover, write_discovery
from fewtag.errors import ConfigError, InputError

from .conftest import BUG, FEATURE, UNLABELLED


def _planted(n=30, seed=0):
    """Three well-separated groups of unit vectors with matching vocabularies."""
    rng = np.random.default_rng(seed)
    centres = np.eye(3, 16) * 5
    words = [["crash", "memory", "segfault"], ["streaming", "iterable", "shard"], ["docs", "typo", "readme"]]
    x, texts, truth = [], [], []
    for i in range(n):
        g = i % 3
        x.append(centres[g] + rng.normal(0, 0.3, 16))
        texts.append(f"{words[g][i % 3]} {words[g][(i + 1) % 3]} problem number {i}")
        truth.append(g)
    x = np.array(x)
    return x / np.linalg.norm(x, axis=1, keepdims=True), texts, np.array(truth)


@pytest.mark.parametrize("method", ["kmeans", "hdbscan"])
def test_discover_recovers_planted_groups(method):
    x, texts, truth = _planted()
    res = discover(
        texts,
        [f"i{i}" for i in range(30)],
        embeddings=x,
        method=method,
        k="auto",
        k_range=range(2, 7),
        min_cluster_size=5,
        projection="pca",
    )
    assert res.k == 3 and sorted(c.size for c in res.clusters) == [10, 10, 10]
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, res.assignments) == 1.0
    names = {c.name for c in res.clusters}
    assert any("crash" in n or "memory" in n or "segfault" in n for n in names)
    assert all(len(c.examples) == 3 and c.examples[0]["id"].startswith("i") for c in res.clusters)
    assert res.coords.shape == (30, 2)


def test_ctfidf_prefers_distinctive_words():
    kw = ctfidf_keywords(["load crash data", "load crash big", "load docs typo", "load docs page"], [0, 0, 1, 1], n=1)
    assert kw == {0: ["crash"], 1: ["docs"]}


def test_discover_validates():
    x, texts, _ = _planted()
    with pytest.raises(ConfigError, match="kmeans, hdbscan"):
        discover(texts, embeddings=x, method="dbscan")
    with pytest.raises(InputError, match="between 2 and 29"):
        discover(texts, embeddings=x, k=30)
    with pytest.raises(InputError, match="at least 3"):
        discover(texts[:2], embeddings=x[:2])


def test_write_discovery_files(tmp_path):
    x, texts, _ = _planted()
    res = discover(texts, embeddings=x, k=3, projection="pca")
    paths = write_discovery(res, tmp_path / "d", repo="huggingface/datasets")
    assert all(p.is_file() for p in paths.values())
    assert paths["map"].stat().st_size > 5000
    cfg = tomllib.loads(paths["config"].read_text())
    assert cfg["labels"]["keep"] == [c.name for c in res.clusters]
    from fewtag.data.prepare import load_config

    assert load_config(paths["config"]).keep == cfg["labels"]["keep"]  # a valid prepare config
    seed = [json.loads(line) for line in paths["seed"].read_text().splitlines()]
    assert len(seed) == 9 and {s["labels"][0] for s in seed} == set(cfg["labels"]["keep"])
    assert len(paths["assignments"].read_text().splitlines()) == 30


def test_cli_discover_with_tiny_encoder(tiny_encoder, tmp_path):
    import fewtag.cli  # noqa: F401
    from fewtag.cli import app

    data = tmp_path / "issues.jsonl"
    data.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(BUG + FEATURE + UNLABELLED)))
    res = CliRunner().invoke(
        app,
        [
            "discover",
            str(data),
            "--model",
            str(tiny_encoder),
            "--k",
            "3",
            "--out",
            str(tmp_path / "out"),
            "--max-length",
            "32",
            "--projection",
            "pca",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "draft label config" in res.output and (tmp_path / "out" / "clusters.png").is_file()
    bad = CliRunner().invoke(
        app, ["discover", str(data), "--model", str(tiny_encoder), "--k", "x", "--out", str(tmp_path / "o2")]
    )
    assert bad.exit_code != 0 and not (tmp_path / "o2").exists()
