"""A round with an encoder method: the diversity step uses the method's own (cached) embeddings."""

from __future__ import annotations

import pytest

pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    from tests.utils.tiny_encoders import build_sentence_encoder

    return str(build_sentence_encoder(tmp_path_factory.mktemp("enc") / "tiny-st"))


def test_next_batch_with_an_encoder_method(store, task, tiny_encoder, monkeypatch, tmp_path):
    from fewtag.active.session import next_batch, train_current
    from fewtag.embed import clear_encoders, get_encoder

    monkeypatch.setenv("FEWTAG_CACHE_DIR", str(tmp_path / "cache"))
    clear_encoders()
    params = {"model": tiny_encoder, "backend": "torch"}
    trained = train_current(store, task, method="embed-logreg", params=params, estimate=False)
    assert trained.tagger is not None
    enc = get_encoder(tiny_encoder, 256, backend="torch")
    calls = []
    real = type(enc).encode

    def counting(self, texts, *a, **k):
        calls.append(len(texts))
        return real(self, texts, *a, **k)

    monkeypatch.setattr(type(enc), "encode", counting)
    batch = next_batch(store, task, n=5, method="embed-logreg", params=params, trained=trained)
    assert len(batch) == 5 and all(set(s.scores) == set(task.labels) for s in batch)
    assert 60 in calls  # labelled + pool embedded once for the diversity step (9 + 51)
    clear_encoders()
