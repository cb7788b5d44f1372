"""The bench harness on synthetic prepared folders, with naive-bayes and tfidf-logreg."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fewtag.errors import ConfigError, InputError, UnknownMethodError
from fewtag.eval import make_settings, run_bench
from fewtag.eval.bench import PER_LABEL_COLUMNS, RESULT_COLUMNS, bench


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def test_single_label_run_writes_every_file(single_data, tmp_path):
    notes = []
    out = tmp_path / "run"
    bench(single_data, out=out, methods="naive-bayes,tfidf-logreg", slices="8,16,128,all", seeds=2, log=notes.append)
    for name in (
        "results.csv",
        "per_label.csv",
        "learning_curves.png",
        "confusion_matrix.png",
        "report.md",
        "report.html",
        "config.json",
    ):
        assert (out / name).is_file(), name
    header, rows = read_csv(out / "results.csv")
    assert header == RESULT_COLUMNS
    assert len(rows) == 2 * 3 * 2
    assert {r["status"] for r in rows} == {"ok"}
    assert {(r["method"], r["slice"], r["seed"]) for r in rows} == {
        (m, s, str(seed)) for m in ("naive-bayes", "tfidf-logreg") for s in ("8", "16", "all") for seed in (0, 1)
    }
    assert {r["slice_size"] for r in rows if r["slice"] == "all"} == {"60"}
    assert {r["slice_size"] for r in rows if r["slice"] == "8" and r["seed"] == "0"} == {"8"}
    for r in rows:
        assert 0.0 <= float(r["micro_f1"]) <= 1.0 and 0.0 <= float(r["macro_f1"]) <= 1.0
        assert float(r["accuracy"]) == pytest.approx(float(r["micro_f1"]))  # single-label
        assert float(r["train_s"]) >= 0 and float(r["predict_s"]) >= 0 and float(r["peak_mb"]) > 10
    full = [float(r["micro_f1"]) for r in rows if r["slice"] == "all"]
    assert min(full) > 0.6  # the keywords are learnable
    header, per = read_csv(out / "per_label.csv")
    assert header == PER_LABEL_COLUMNS
    assert len(per) == len(rows) * 4 * 2  # validation and test, 4 labels each
    assert {r["split"] for r in per} == {"valid", "test"}
    assert {r["support"] for r in per} == {"8"}  # 32 texts, rows cycle through the 4 labels
    assert (out / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert "slice 128 skipped: larger than the training split (60 texts)" in report
    assert any("slice 128 skipped" in n for n in notes)
    assert "## Confusion matrix" in report and "true \\ predicted" in report
    assert "fewtag bench" in report and "--seeds 2" in report
    assert "Per-label F1" in report and "± " in report
    assert "<table>" in (out / "report.html").read_text()
    header, errs = read_csv(out / "error_analysis.csv")
    assert header == ["rank", "id", "loss", "true", "predicted", "text"]
    losses = [float(r["loss"]) for r in errs]
    assert len(errs) == 32 and losses == sorted(losses, reverse=True)
    assert all(r["id"].startswith("valid-") for r in errs)  # validation only, never test
    assert "## Error analysis: tfidf-logreg at slice all (validation)" in report
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["kind"] == "fewtag-bench" and cfg["slices_run"] == ["8", "16", "all"]
    assert cfg["settings"]["seeds"] == 2


def test_same_command_twice_gives_the_same_numbers(single_data, tmp_path):
    opts = dict(methods="naive-bayes,tfidf-logreg", slices="8,32,all", seeds=2)
    bench(single_data, out=tmp_path / "a", **opts)
    bench(single_data, out=tmp_path / "b", **opts)
    timing = {"train_s", "predict_s", "peak_mb"}
    _, a = read_csv(tmp_path / "a" / "results.csv")
    _, b = read_csv(tmp_path / "b" / "results.csv")
    assert [{k: v for k, v in r.items() if k not in timing} for r in a] == [
        {k: v for k, v in r.items() if k not in timing} for r in b
    ]
    assert (tmp_path / "a" / "per_label.csv").read_text() == (tmp_path / "b" / "per_label.csv").read_text()
    # and the seeds really draw different slices
    micro = {(r["method"], r["slice"], r["seed"]): r["micro_f1"] for r in a}
    assert any(micro[(m, s, "0")] != micro[(m, s, "1")] for m in ("naive-bayes", "tfidf-logreg") for s in ("8", "32"))


def test_multi_label_run_has_no_confusion_matrix(multi_data, tmp_path):
    settings = make_settings(
        multi_data, out=tmp_path / "run", methods="naive-bayes,tfidf-logreg", slices="16,all", seeds=1
    )
    result = run_bench(settings)
    assert result.multi_label
    for row in result.rows:
        pred = result.predictions[(row["method"], row["slice"], row["seed"])]
        assert row["accuracy"] == pytest.approx(np.mean(np.all(pred == result.y_test, axis=1)))
    from fewtag.eval.report import write_run

    out = write_run(result)
    assert not (out / "confusion_matrix.png").exists()
    report = (out / "report.md").read_text()
    assert "Confusion matrix" not in report and "Subset accuracy" in report
    _, rows = read_csv(out / "results.csv")
    assert len(rows) == 4 and {r["status"] for r in rows} == {"ok"}


def test_zero_shot_is_flat_and_failures_do_not_stop_the_run(single_data, tmp_path, test_methods):
    out = tmp_path / "run"
    notes = []
    result = bench(
        single_data,
        out=out,
        methods="naive-bayes,test-zero-shot,test-failing",
        slices="8,16,all",
        seeds=2,
        log=notes.append,
    )
    assert not result.all_failed
    assert len([n for n in notes if "big-nli" in n]) == 1  # said once, recorded for every row
    # one fit per seed, with no training texts, but with validation and unlabelled texts
    assert test_methods.fits == [{"n_texts": 0, "model": "default-model", "validation": True, "unlabelled": 10}] * 2
    _, rows = read_csv(out / "results.csv")
    zs = [r for r in rows if r["method"] == "test-zero-shot"]
    assert len(zs) == 6 and len({r["micro_f1"] for r in zs}) == 1 and float(zs[0]["micro_f1"]) > 0.5
    failed = [r for r in rows if r["method"] == "test-failing"]
    assert len(failed) == 6
    assert all(r["status"].startswith("failed: ModelNotFoundError: model 'big-nli'") for r in failed)
    assert all(r["micro_f1"] == "" for r in failed)
    report = (out / "report.md").read_text()
    assert "## Failures" in report and "big-nli" in report
    assert {r["status"] for r in rows if r["method"] == "naive-bayes"} == {"ok"}


def test_config_labels_params_and_model_option(single_data, tmp_path, test_methods):
    cfg = tmp_path / "bench.toml"
    cfg.write_text(
        'seeds = 1\nslices = "8,all"\n'
        '[[method]]\nname = "test-zero-shot"\nlabel = "ZS (adapted)"\nparams = { model = "adapted/" }\n'
        '[[method]]\nname = "naive-bayes"\nlabel = "NB smooth"\nparams = { alpha = 0.5 }\n'
    )
    result = bench(single_data, out=tmp_path / "run", config=cfg, log=None)
    assert [m.display for m in result.settings.methods] == ["ZS (adapted)", "NB smooth"]
    assert {r["method"] for r in result.rows} == {"ZS (adapted)", "NB smooth"}
    assert test_methods.fits[0]["model"] == "adapted/"
    # --methods picks config rows by label or name; others get --model when they take one
    test_methods.fits.clear()
    result = bench(
        single_data,
        out=tmp_path / "run2",
        config=cfg,
        methods="NB smooth,test-zero-shot",
        model="cli-model",
        slices="all",
    )
    assert [m.display for m in result.settings.methods] == ["NB smooth", "ZS (adapted)"]
    assert test_methods.fits[0]["model"] == "adapted/"  # config params win over --model
    test_methods.fits.clear()
    bench(single_data, out=tmp_path / "run3", methods="test-zero-shot", model="cli-model", slices="all")
    assert test_methods.fits[0]["model"] == "cli-model"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[method]]\nname = "naive-bayes"\nparams = { alphaa = 1 }\n')
    with pytest.raises(ConfigError, match="alphaa.*alpha, ngram_max"):
        make_settings(single_data, out=tmp_path / "x", config=bad)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            dict(methods="naive-bayes,nb-typo"),
            UnknownMethodError,
            "'nb-typo' is not a method. Available: .*naive-bayes",
        ),
        (dict(methods="naive-bayes", slices="8,sixteen"), ConfigError, "bad training slice 'sixteen'"),
        (dict(methods="naive-bayes", seeds=0), ConfigError, "--seeds must be an integer >= 1"),
        (dict(methods=""), ConfigError, "no methods given"),
        (dict(methods="naive-bayes,naive-bayes"), ConfigError, "listed twice"),
        (dict(methods="naive-bayes", slices="100,200"), InputError, "no training slice fits: 100, 200"),
    ],
)
def test_bad_options_fail_before_anything_is_written(single_data, tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        bench(single_data, out=tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.glob(".run*"))


def test_missing_data_and_foreign_out_folder(single_data, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        bench(tmp_path / "nope", out=tmp_path / "run", methods="naive-bayes")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a previous `fewtag bench` run"):
        bench(single_data, out=foreign, methods="naive-bayes", slices="all")
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    # a previous run folder is replaced whole
    bench(single_data, out=tmp_path / "run", methods="naive-bayes", slices="all")
    (tmp_path / "run" / "stale.txt").write_text("old")
    bench(single_data, out=tmp_path / "run", methods="tfidf-logreg", slices="8,all")
    assert not (tmp_path / "run" / "stale.txt").exists()
    _, rows = read_csv(tmp_path / "run" / "results.csv")
    assert {r["method"] for r in rows} == {"tfidf-logreg"}


def test_labelled_file_is_split_with_the_seed(tmp_path):
    import random

    from tests.eval.builders import _text

    rng = random.Random(0)
    path = tmp_path / "issues.txt"
    labels = ["bug", "docs", "feature", "question"]
    path.write_text("".join(f"{_text(rng, [labels[i % 4]])} n{i};{labels[i % 4]}\n" for i in range(120)))
    result = bench(path, out=tmp_path / "run", methods="naive-bayes", slices="8,all", seeds=2)
    assert result.data_summary["sizes"]["train"] > 0 and result.data_summary["sizes"]["test"] > 0
    assert len(result.rows) == 4 and all(r["status"] == "ok" for r in result.rows)
    assert "a labelled file, split in memory with seed 0" in (tmp_path / "run" / "report.md").read_text()


def test_store_option_configures_the_embedding_cache(single_data, tmp_path, monkeypatch):
    import fewtag.embed

    seen = []
    monkeypatch.setattr(fewtag.embed, "configure_cache", seen.append)
    result = bench(single_data, out=tmp_path / "run", methods="naive-bayes", slices="all", store=tmp_path / "cache.db")
    assert seen == [str(tmp_path / "cache.db")]
    assert "--store" in result.settings.command_line()
