"""SetFit's body training within a token budget per pass and a time budget (issue 13 §1)."""

from __future__ import annotations

import numpy as np
import pytest

from fewtag.errors import ConfigError
from fewtag.methods.setfit_train import micro_batches, train_pairs
from fewtag.progress import reporting
from fewtag.registry import create

TEXTS = [
    "crash when the button is clicked " * 6,
    "null pointer error in the parser",
    "please add a dark mode option",
    "feature request: export to csv " * 5,
    "the app crashes on start " * 3,
    "would be nice to support plugins",
    "error message when saving the file",
    "add keyboard shortcuts please " * 4,
]
LABELS = [["bug"], ["bug"], ["feature"], ["feature"], ["bug"], ["feature"], ["bug"], ["feature"]]


def _body(path, max_length=32):
    from fewtag.embed.loading import load_sentence_transformer

    return load_sentence_transformer(path, max_length)


def test_micro_batches_partition_the_pairs_within_the_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 60, size=40)
    a, b = rng.integers(0, 40, size=64), rng.integers(0, 40, size=64)
    groups = micro_batches(a, b, lengths, token_budget=300)
    assert sorted(np.concatenate(groups).tolist()) == list(range(64))  # every pair exactly once
    assert len(groups) > 1
    for g in groups:
        texts = np.unique(np.concatenate([a[g], b[g]]))
        assert len(g) == 1 or len(texts) * lengths[texts].max() <= 300


def _grads(body):
    return {n: p.grad.detach().clone() for n, p in body.named_parameters() if p.grad is not None}


def test_accumulated_micro_batches_give_the_one_batch_gradient(tiny_encoder):
    """The effective batch stays ``batch_size`` pairs: same gradient as one pass over all pairs."""
    import torch

    a = np.array([0, 2, 4, 1, 3, 5, 6, 7])
    b = np.array([1, 3, 6, 2, 7, 0, 4, 5])
    t = np.array([1, 1, 1, 0, 1, 0, 1, 0], dtype=np.float32)
    grads = []
    for budget in (10_000, 40):  # one pass; many small passes
        torch.manual_seed(0)
        body = _body(tiny_encoder)
        for m in body.modules():  # no dropout, so the two runs are comparable
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
        run = train_pairs(
            body, TEXTS, [(a, b, t)], batch_size=8, learning_rate=0.0, warmup_ratio=0.1, token_budget=budget
        )
        grads.append((_grads(body), run.forward_passes))
    (one, passes_one), (many, passes_many) = grads
    assert passes_one == 1 and passes_many > 2
    assert one.keys() == many.keys() and one
    for name in one:
        torch.testing.assert_close(one[name], many[name], rtol=1e-4, atol=1e-6)


def test_token_budget_caps_the_padded_tokens_of_every_pass(tiny_encoder):
    tagger = create("setfit", {"model": tiny_encoder, "num_iterations": 4, "max_length": 32, "token_budget": 64})
    tagger.fit(TEXTS, LABELS, classes=["bug", "feature"])
    info = tagger.metadata_["setfit"]
    assert 0 < info["max_tokens_per_pass"] <= 64
    assert info["forward_passes"] > info["steps"]


def test_time_budget_shortens_the_schedule_and_says_so(tiny_encoder, monkeypatch):
    """A clock that advances 1 s per step and a 10 s budget: about 10 of the 40 steps run."""
    import fewtag.methods.setfit_train as loop

    clock = iter(range(1000))
    monkeypatch.setattr(loop.time, "perf_counter", lambda: float(next(clock)))
    seen: list[tuple[int, int]] = []
    body = _body(tiny_encoder)
    a, b, t = np.arange(8).repeat(10), np.roll(np.arange(8), 1).repeat(10), np.ones(80, dtype=np.float32)
    with reporting(lambda task, done, total, fields: seen.append((done, total))):
        run = train_pairs(
            body,
            TEXTS,
            [(a, b, t)],
            batch_size=2,
            learning_rate=1e-4,
            warmup_ratio=0.1,
            token_budget=4096,
            time_budget=10.0,
        )
    assert run.stopped_by == "time budget"
    assert 8 <= run.steps <= 11 and run.steps == run.planned_steps
    assert seen[0] == (1, 10) and seen[-1] == (run.steps, run.steps)  # the bar ends full, on the shortened plan
    no_budget = train_pairs(
        _body(tiny_encoder),
        TEXTS,
        [(a[:8], b[:8], t[:8])],
        batch_size=2,
        learning_rate=1e-4,
        warmup_ratio=0.1,
        token_budget=4096,
    )
    assert no_budget.steps == 4 and no_budget.stopped_by == "schedule"


def test_max_steps_caps_training(tiny_encoder):
    tagger = create("setfit", {"model": tiny_encoder, "num_iterations": 10, "batch_size": 2, "max_steps": 3})
    tagger.fit(TEXTS, LABELS, classes=["bug", "feature"])
    assert tagger.metadata_["setfit"]["steps"] == 3
    assert tagger.metadata_["setfit"]["stopped_by"] == "max_steps"


def test_bf16_training_runs_and_predicts(tiny_encoder):
    tagger = create("setfit", {"model": tiny_encoder, "num_iterations": 2, "precision": "bf16", "max_length": 32})
    tagger.fit(TEXTS, LABELS, classes=["bug", "feature"])
    p = tagger.predict_proba(TEXTS)
    assert p.shape == (8, 2) and np.isfinite(p).all()


@pytest.mark.parametrize(
    "params",
    [{"token_budget": 0}, {"time_budget": -1}, {"max_steps": 0}, {"precision": "fp8"}, {"train_max_length": 1}],
)
def test_bad_budget_settings_are_config_errors(tiny_encoder, params):
    with pytest.raises(ConfigError):
        create("setfit", {"model": tiny_encoder, **params}).fit(TEXTS, LABELS, classes=["bug", "feature"])


def _labelled_file(tmp_path):
    import json

    f = tmp_path / "train.jsonl"
    rows = [{"id": str(i), "title": t, "label": lab[0]} for i, (t, lab) in enumerate(zip(TEXTS * 2, LABELS * 2))]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return f


@pytest.mark.parametrize(
    ("given", "per_fit"), [(["--time-budget", "30"], 15.0), ([], 120.0), (["--time-budget", "0"], None)]
)
def test_train_time_budget_is_split_over_the_two_fits_of_a_labelled_file(tiny_encoder, tmp_path, given, per_fit):
    """The default budget (240 s) or the given one, half for the tuning fit and half for the final fit."""
    import json

    from typer.testing import CliRunner

    import fewtag.cli  # noqa: F401  registers every command
    from fewtag.cli import app

    out = tmp_path / "model"
    args = ["train", str(_labelled_file(tmp_path)), "--method", "setfit", "--model", tiny_encoder, "--out", str(out)]
    res = CliRunner().invoke(app, [*args, "-p", "num_iterations=1", "-p", "max_length=32", *given])
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "fewtag.json").read_text())
    assert meta["params"]["time_budget"] == per_fit


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--time-budget", "-5"], "positive number of seconds"), (["--time-budget", "5"], "no training loop")],
)
def test_train_time_budget_errors_are_one_line(tmp_path, extra, message):
    import subprocess
    import sys

    from fewtag.cli import main  # noqa: F401

    method = "setfit" if extra[1] == "-5" else "tfidf-logreg"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from fewtag.cli import main; main()",
            "train",
            str(_labelled_file(tmp_path)),
            "--method",
            method,
            "--out",
            str(tmp_path / "m"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_setfit_long_text_mode_is_used_for_the_head_and_kept_on_reload(tiny_encoder, tmp_path):
    from fewtag.registry import load_tagger

    params = {"model": tiny_encoder, "num_iterations": 1, "max_length": 8, "long_text": "chunks"}
    tagger = create("setfit", params).fit(TEXTS, LABELS, classes=["bug", "feature"])
    assert tagger._body_encoder.long_text == "chunks"
    tagger.save(tmp_path / "m")
    again = load_tagger(tmp_path / "m")
    assert again._body_encoder.long_text == "chunks"
    np.testing.assert_allclose(again.predict_proba(TEXTS), tagger.predict_proba(TEXTS), atol=1e-5)
    head = create("setfit", {**params, "long_text": "head"}).fit(TEXTS, LABELS, classes=["bug", "feature"])
    long = ["crash when the button is clicked, then the parser fails with a null pointer error in module seven"]
    assert not np.allclose(head._body_encoder.encode(long), tagger._body_encoder.encode(long))
