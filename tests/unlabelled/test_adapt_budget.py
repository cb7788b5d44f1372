"""``adapt`` under a time budget, MLM on sentence encoders (fresh head, written back), bad settings."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from safetensors.numpy import load_file
from typer.testing import CliRunner

from fewtag.adapt import adapt, detect_objective
from fewtag.errors import ConfigError

from .conftest import BUG, FEATURE, UNLABELLED, WORDS


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: a tiny model's step takes ms, but seconds with 2 threads on shared, busy cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_st(tmp_path_factory):
    """A tiny sentence-transformers folder: BERT body + mean pooling + normalisation."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    from tests.utils.tiny_encoders import build_plain_encoder

    root = tmp_path_factory.mktemp("tiny_st")
    plain = build_plain_encoder(root / "plain", words=WORDS)
    body = Transformer(str(plain), max_seq_length=64)
    st = SentenceTransformer(modules=[body, Pooling(32, pooling_mode="mean"), Normalize()], device="cpu")
    st.save(str(root / "st"))
    return root / "st"


def _encode(folder, texts):
    from fewtag.embed import get_encoder

    return get_encoder(str(folder), max_length=32).encode(texts)


def test_time_budget_stops_early_and_saves_a_loadable_model(tiny_st, tmp_path):
    out = tmp_path / "budget"
    res = adapt(UNLABELLED, str(tiny_st), out, steps=100_000, batch_size=4, max_length=32, time_budget=2)
    assert res.stopped_by == "time budget" and 1 <= res.steps < 100_000 and res.steps_requested == 100_000
    # the budget holds, give or take a step on busy cores (only the first step may start past it)
    assert res.seconds <= 2 + 1.0 or res.steps == 1
    assert len(res.train_loss) == res.steps and res.held_out_loss[-1][0] == res.steps
    log = json.loads((out / "adapt.json").read_text())
    assert log["steps"] == res.steps and log["stopped_by"] == "time budget" and log["time_budget"] == 2
    emb = _encode(out, ["crash on load", "add audio support"])
    assert emb.shape == (2, 32) and np.isfinite(emb).all()


def test_tiny_budget_still_runs_one_step_and_steps_win_when_they_fit(tiny_st, tmp_path):
    res = adapt(UNLABELLED, str(tiny_st), tmp_path / "a", steps=50, batch_size=4, time_budget=1e-3)
    assert res.steps == 1 and res.stopped_by == "time budget"
    res = adapt(UNLABELLED, str(tiny_st), tmp_path / "b", steps=3, batch_size=4, time_budget=600)
    assert res.steps == 3 and res.stopped_by == "steps"


def test_mlm_on_a_sentence_encoder_trains_a_fresh_head_and_writes_the_encoder_back(tiny_st, tmp_path):
    assert detect_objective(tiny_st) == "simcse"  # auto stays simcse; mlm must be asked for
    out = tmp_path / "mlm"
    res = adapt(UNLABELLED * 4, str(tiny_st), out, steps=12, batch_size=8, objective="mlm", learning_rate=1e-3)
    assert res.objective == "mlm" and res.steps == 12
    assert any("freshly initialised head" in n for n in res.notes)
    losses = [loss for _, loss in res.train_loss] + [loss for _, loss in res.held_out_loss]
    assert all(math.isfinite(x) for x in losses)
    assert res.held_out_loss[-1][1] < res.held_out_loss[0][1]  # it learned something about the masked words
    # a sentence-transformers folder with the original pooling and normalisation, no MLM head
    modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((out / "modules.json").read_text())]
    assert modules == ["Transformer", "Pooling", "Normalize"]
    weights = load_file(str(out / "model.safetensors"))
    assert not any(k.startswith("cls.") for k in weights)
    before = load_file(str(tiny_st / "model.safetensors"))
    assert set(weights) == set(before)
    assert any(not np.allclose(before[k], weights[k]) for k in weights if not k.startswith("pooler."))
    emb = _encode(out, ["crash on load", "add audio support"])
    assert emb.shape == (2, 32) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)
    from fewtag.registry import get_method

    texts, labels = BUG + FEATURE, ["bug"] * 6 + ["feature"] * 6
    tagger = get_method("embed-logreg")(model=str(out), max_length=32).fit(texts, labels)
    assert tagger.predict_proba(texts).shape == (12, 2)


def test_mlm_refused_where_transformers_has_no_masked_lm(tmp_path):
    from transformers import GPT2Config, GPT2Model

    from tests.utils.tiny_models import build_tokenizer

    folder = tmp_path / "gpt2"
    tok = build_tokenizer(folder, WORDS)
    GPT2Model(GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=1, n_head=2, n_positions=64)).save_pretrained(folder)
    with pytest.raises(ConfigError, match="no masked-LM variant") as err:
        adapt(UNLABELLED, str(folder), tmp_path / "x", steps=1, objective="mlm")
    assert "\n" not in str(err.value) and not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"time_budget": -5}, "time_budget must be a positive number of seconds, got -5"),
        ({"time_budget": 0}, "time_budget must be a positive"),
        ({"time_budget": float("nan")}, "time_budget must be a positive"),
        ({"steps": 0}, "steps must be >= 1"),
        ({"batch_size": 1}, "batch_size must be >= 2"),
        ({"held_out": 1.0}, "held_out must be in"),
    ],
)
def test_bad_settings_are_one_line_errors_before_any_model_loads(kwargs, match, tmp_path):
    with pytest.raises(ConfigError, match=match) as err:
        adapt(UNLABELLED, str(tmp_path / "no-such-model"), tmp_path / "x", **kwargs)
    assert "\n" not in str(err.value) and not (tmp_path / "x").exists()


def test_cli_time_budget_and_bad_budget(tiny_st, tmp_path, monkeypatch, capsys):
    import sys

    from fewtag.cli import app, main

    data = tmp_path / "texts.txt"
    data.write_text("\n".join(UNLABELLED))
    args = ["adapt", str(data), "--model", str(tiny_st), "--batch-size", "4", "--max-length", "32"]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o"), "--steps", "100000", "--time-budget", "1"])
    assert res.exit_code == 0, res.output
    assert "of 100000 steps (time budget 1 s reached)" in res.output and (tmp_path / "o" / "modules.json").is_file()
    monkeypatch.setattr(sys, "argv", ["fewtag", *args, "--out", str(tmp_path / "bad"), "--time-budget", "-5"])
    monkeypatch.setenv("COLUMNS", "300")
    with pytest.raises(SystemExit) as exit_:
        main()  # the real entry point: a TaggerError is one red line and exit code 1
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and not (tmp_path / "bad").exists()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "time_budget must be a positive number of seconds, got -5" in lines[0], err
    res = CliRunner().invoke(app, ["adapt", "--help"])
    assert "--time-budget" in res.output and "2 shared cores" in " ".join(res.output.split())
