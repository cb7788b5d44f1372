"""End to end with the real MiniLM and the real issue dump (``-m slow``)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from .conftest import BUG, FEATURE, UNLABELLED

pytestmark = pytest.mark.slow
DUMP = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "github_issues_hf_datasets" / "datasets-issues.zip"
)


def test_minilm_simcse_adapt_then_embed_logreg(tmp_path):
    from fewtag.adapt import adapt
    from fewtag.registry import get_method

    out = tmp_path / "minilm-da"
    res = adapt(UNLABELLED, "sentence-transformers/all-MiniLM-L6-v2", out, steps=3, batch_size=8, max_length=32)
    assert res.objective == "simcse" and (out / "modules.json").is_file()
    texts, labels = BUG + FEATURE, ["bug"] * 6 + ["feature"] * 6
    t = get_method("embed-logreg")(model=str(out), max_length=32).fit(texts, labels)
    assert t.predict(["crash when i load a big file"]) == [["bug"]]


@pytest.mark.skipif(not DUMP.is_file(), reason="needs ../shared/data (the huggingface/datasets dump)")
def test_discover_on_real_issues(tmp_path):
    from fewtag.discover import discover, write_discovery

    with zipfile.ZipFile(DUMP) as z:
        rows = [json.loads(line) for line in z.open(z.namelist()[0])]
    issues = [r for r in rows if not r.get("pull_request")][:300]
    texts = [f"{r['title']}\n\n{(r.get('body') or '')[:500]}" for r in issues]
    res = discover(texts, [str(r["number"]) for r in issues], k="auto", k_range=range(4, 9))
    assert 4 <= res.k <= 8 and sum(c.size for c in res.clusters) == 300
    assert all(c.keywords for c in res.clusters)
    paths = write_discovery(res, tmp_path / "d")
    assert paths["config"].is_file() and np.isfinite(res.coords).all()
