"""finetune on the real offline MiniLM and emotion data (slow: run with -m slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fewtag.registry import get_method, load_tagger

EMOTION = Path(__file__).resolve().parents[3] / "shared" / "data" / "emotion"

pytestmark = pytest.mark.slow


def _read(split, n):
    rows = [ln.rpartition(";") for ln in (EMOTION / f"{split}.txt").read_text().splitlines() if ln]
    return [r[0] for r in rows[:n]], [r[2] for r in rows[:n]]


@pytest.mark.skipif(not (EMOTION / "train.txt").is_file(), reason="needs /work/shared/data/emotion")
def test_finetune_minilm_beats_the_baseline_on_emotion(tmp_path):
    train, val = _read("train", 600), _read("val", 200)
    tagger = get_method("finetune")(epochs=2, lr=2e-4, batch_size=32, max_length=32, patience=1)
    tagger.fit(*train, validation=val)
    assert tagger.model_.config.id2label[0] == "anger"
    pred = [p[0] for p in tagger.predict(val[0])]
    majority = max(val[1].count(c) for c in set(val[1])) / len(val[1])
    assert np.mean(np.array(pred) == np.array(val[1])) > majority + 0.1
    tagger.save(tmp_path / "m")
    np.testing.assert_allclose(
        load_tagger(tmp_path / "m").predict_proba(val[0][:20]), tagger.predict_proba(val[0][:20]), atol=1e-6
    )
