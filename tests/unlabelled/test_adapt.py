"""Adaptation changes the weights and its output loads as an encoder-method model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file
from typer.testing import CliRunner

from fewtag.adapt import adapt, detect_objective, read_texts
from fewtag.errors import ConfigError, InputError

from .conftest import BUG, FEATURE, UNLABELLED


def _changed(before, after) -> bool:
    a, b = load_file(str(before / "model.safetensors")), load_file(str(after / "model.safetensors"))
    strip = lambda k: k.removeprefix("bert.")  # noqa: E731
    a = {strip(k): v for k, v in a.items()}
    b = {strip(k): v for k, v in b.items()}
    shared = sorted(set(a) & set(b))
    assert "embeddings.word_embeddings.weight" in shared
    return any(not np.allclose(a[k], b[k]) for k in shared)


def test_mlm_adapt_changes_weights_and_loads(tiny_mlm, tmp_path):
    out = tmp_path / "mlm-da"
    res = adapt(UNLABELLED, str(tiny_mlm), out, steps=4, batch_size=4, seed=0)
    assert res.objective == "mlm" and detect_objective(tiny_mlm) == "mlm"
    assert len(res.train_loss) == 4 and res.held_out_loss[0][0] == 0 and res.held_out_loss[-1][0] == 4
    assert (out / "loss.png").stat().st_size > 1000
    assert json.loads((out / "adapt.json").read_text())["steps"] == 4
    assert _changed(tiny_mlm, out)
    from fewtag.registry import get_method

    texts, labels = BUG + FEATURE, ["bug"] * 6 + ["feature"] * 6
    tagger = get_method("embed-logreg")(model=str(out), max_length=32).fit(texts, labels)
    assert tagger.predict_proba(texts).shape == (12, 2)
    ft = get_method("finetune")(model=str(out), epochs=1, batch_size=4, max_length=32, device="cpu").fit(texts, labels)
    assert ft.predict_proba(texts[:2]).shape == (2, 2)


@pytest.mark.parametrize("objective", ["simcse", "tsdae"])
def test_sentence_objectives_change_weights_and_load(objective, tiny_encoder, tmp_path):
    out = tmp_path / objective
    res = adapt(UNLABELLED, str(tiny_encoder), out, steps=3, batch_size=4, objective=objective, learning_rate=1e-3)
    assert res.objective == objective and (out / "modules.json").is_file()
    assert _changed(tiny_encoder, out)
    from fewtag.embed import get_encoder

    emb = get_encoder(str(out), max_length=32).encode(["crash on load", "add audio support"])
    assert emb.shape == (2, 32) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)


def test_auto_picks_simcse_without_mlm_head_and_mlm_writes_a_sentence_encoder(tiny_encoder, tmp_path):
    assert detect_objective(tiny_encoder) == "simcse"
    res = adapt(UNLABELLED, str(tiny_encoder), tmp_path / "mlm", steps=2, batch_size=4, objective="mlm")
    assert res.objective == "mlm" and res.notes and (tmp_path / "mlm" / "modules.json").is_file()
    assert _changed(tiny_encoder, tmp_path / "mlm")
    with pytest.raises(ConfigError, match="objective must be one of"):
        adapt(UNLABELLED, str(tiny_encoder), tmp_path / "x", steps=1, objective="bert")
    with pytest.raises(InputError, match="at least 2"):
        adapt(["one"], str(tiny_encoder), tmp_path / "x", steps=1)
    assert not (tmp_path / "x").exists()


def test_read_texts_formats(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x y", "labels": ["bug"]}\n{"title": "t", "body": "b"}\n')
    assert read_texts(tmp_path / "a.jsonl") == ["x y", "t\n\nb"]
    (tmp_path / "a.csv").write_text("text,label\nhello there,bug\n")
    assert read_texts(tmp_path / "a.csv") == ["hello there"]
    (tmp_path / "bad.jsonl").write_text("{oops\n")
    with pytest.raises(InputError, match="bad.jsonl:1"):
        read_texts(tmp_path / "bad.jsonl")
    with pytest.raises(InputError, match="does not exist"):
        read_texts(tmp_path / "missing.jsonl")


def test_cli_adapt(tiny_mlm, tmp_path):
    import fewtag.cli  # noqa: F401  (registers the commands)
    from fewtag.cli import app

    data = tmp_path / "texts.txt"
    data.write_text("\n".join(UNLABELLED))
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "adapt",
            str(data),
            "--model",
            str(tiny_mlm),
            "--out",
            str(tmp_path / "out"),
            "--steps",
            "2",
            "--batch-size",
            "4",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "held-out loss" in res.output and (tmp_path / "out" / "config.json").is_file()
    res = runner.invoke(app, ["adapt", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o2")])
    assert res.exit_code != 0 and not (tmp_path / "o2").exists()
