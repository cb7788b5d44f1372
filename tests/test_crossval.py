"""`fewtag train FILE`: every row trains the final model; tuning and the estimate come from out-of-fold scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  registers every command
from fewtag.cli import app
from fewtag.crossval import fit_with_cv, fold_count, make_folds
from fewtag.data.text import TextSpec
from fewtag.decision import DecisionSpec
from fewtag.errors import InputError, TaggerError
from fewtag.pipeline import train_model
from fewtag.registry import create, load_tagger

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_encoder_path(tmp_path_factory):
    pytest.importorskip("sentence_transformers")
    from tests.utils.tiny_encoders import build_sentence_encoder

    return str(build_sentence_encoder(tmp_path_factory.mktemp("enc") / "tiny-st"))


WORDS = {
    "bug": ["crash", "error", "traceback", "segfault", "fails"],
    "feature": ["please", "add", "option", "support", "request"],
    "docs": ["readme", "typo", "documentation", "example", "guide"],
}


def labelled_file(path, n_per_label=20, multi=False, seed=0):
    rng = np.random.RandomState(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n_per_label):
            for lab, words in WORDS.items():
                text = " ".join(rng.choice(words, 3)) + f" case {i}"
                labels = [lab] + (["docs"] if multi and lab == "bug" and i % 3 == 0 else [])
                fh.write(json.dumps({"id": f"{lab}-{i}", "title": text, "body": "", "labels": labels}) + "\n")
    return path


def test_folds_are_stratified_and_cover_every_row():
    y = np.eye(3, dtype=int)[[0] * 10 + [1] * 10 + [2] * 5]
    folds = make_folds(y, multi_label=False, n_splits=fold_count(y), seed=0)
    assert len(folds) == 5 and sorted(np.concatenate(folds).tolist()) == list(range(25))
    assert all(y[f].sum(axis=0).tolist() == [2, 2, 1] for f in folds)


def test_a_rare_label_means_fewer_folds_and_a_single_example_is_an_error():
    y = np.eye(2, dtype=int)[[0] * 20 + [1] * 3]
    assert fold_count(y) == 3
    with pytest.raises(InputError, match="needs at least 2"):
        fold_count(np.eye(2, dtype=int)[[0] * 20 + [1]])


def test_multi_label_folds_by_iterative_stratification():
    rng = np.random.RandomState(0)
    y = (rng.rand(60, 4) > 0.6).astype(int)
    y[y.sum(axis=1) == 0, 0] = 1
    folds = make_folds(y, multi_label=True, n_splits=5, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(60))
    per_fold = np.array([y[f].sum(axis=0) for f in folds])
    assert (per_fold.max(axis=0) - per_fold.min(axis=0) <= 3).all()


def test_train_file_fits_the_final_model_on_all_rows(tmp_path):
    f = labelled_file(tmp_path / "train.jsonl")
    tagger, metrics = train_model(f, "naive-bayes", tmp_path / "m")
    assert metrics["train_size"] == 60 and metrics["tuning"] == "5-fold out-of-fold"
    meta = json.loads((tmp_path / "m" / "fewtag.json").read_text())
    cv = meta["metrics"]["cv"]
    assert meta["trained_on"]["rows"] == 60 and cv["folds"] == 5 and len(cv["per_fold"]) == 5
    assert sum(f["size"] for f in cv["per_fold"]) == 60
    assert cv["micro_f1"]["lo"] <= cv["micro_f1"]["mean"] <= cv["micro_f1"]["hi"]
    assert set(cv["per_label_f1"]) == {"bug", "docs", "feature"}


def test_the_rule_is_tuned_on_out_of_fold_scores_not_on_the_training_rows(tmp_path):
    """Multi-label: the threshold tuned on OOF scores differs from one tuned on in-sample scores."""
    f = labelled_file(tmp_path / "train.jsonl", multi=True)
    tagger, _ = train_model(f, "tfidf-logreg", tmp_path / "m")
    texts = [json.loads(line)["title"] for line in f.read_text().splitlines()]
    labels = [json.loads(line)["labels"] for line in f.read_text().splitlines()]
    in_sample = create("tfidf-logreg").fit(texts, labels, validation=(texts, labels))
    assert tagger.decision_.to_dict() != in_sample.decision_.to_dict()
    oof_value = tagger.metadata_["tuning_objective_value"]
    assert 0 < oof_value < in_sample.metadata_["tuning_objective_value"] <= 1


def test_knn_picks_k_on_out_of_fold_scores(tmp_path, tiny_encoder_path):
    f = labelled_file(tmp_path / "train.jsonl", n_per_label=8)
    tagger, metrics = train_model(f, "knn", tmp_path / "m", params={"model": tiny_encoder_path, "max_k": 6})
    assert 1 <= tagger.k_ <= 6 and metrics["tuning"] == "5-fold out-of-fold"
    again = load_tagger(tmp_path / "m")
    assert again.k_ == tagger.k_ and again.decision_ == tagger.decision_


def test_holdout_methods_tune_on_one_validation_fold_and_say_so(tmp_path):
    f = labelled_file(tmp_path / "train.jsonl")
    runs = []

    def make():
        t = create("ensemble", {"members": [{"name": "naive-bayes"}, {"name": "tfidf-logreg"}]})
        runs.append(t)
        return t

    texts = [json.loads(line)["title"] for line in f.read_text().splitlines()]
    labels = [json.loads(line)["labels"][0] for line in f.read_text().splitlines()]
    classes = sorted(set(labels))
    y = np.array([[int(lab == c) for c in classes] for lab in labels])
    final, est = fit_with_cv(make, texts, y, classes, multi_label=False, decision=DecisionSpec(), text=TextSpec())
    assert est.strategy == "holdout (1 validation fold of 5)" and len(est.folds) == 2
    assert len(runs) == 3  # the probe, the fit on 4/5 with validation, the refit on all rows
    assert final is runs[-1] and final.text_of_spec() == TextSpec()


def test_holdout_keeps_a_test_part_out_and_scores_it_once(tmp_path):
    f = labelled_file(tmp_path / "train.jsonl")
    _, metrics = train_model(f, "tfidf-logreg", tmp_path / "m", holdout=0.25)
    assert metrics["train_size"] == 45 and metrics["test_size"] == 15
    meta = json.loads((tmp_path / "m" / "fewtag.json").read_text())
    assert meta["metrics"]["test"]["test_size"] == 15 and meta["trained_on"]["holdout"] == 0.25


def test_precision_targets_and_objective_reach_the_saved_model(tmp_path):
    f = labelled_file(tmp_path / "train.jsonl", multi=True)
    r = runner.invoke(
        app,
        [
            "train",
            str(f),
            "--method",
            "tfidf-logreg",
            "--out",
            str(tmp_path / "m"),
            "--objective",
            "macro",
            "--precision-target",
            "bug=0.95",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "expected quality (5-fold out-of-fold" in r.output and "per label F1" in r.output
    meta = json.loads((tmp_path / "m" / "fewtag.json").read_text())
    assert meta["decision_spec"]["objective"] == "macro"
    assert meta["decision_spec"]["precision_target"] == {"bug": 0.95}
    assert meta["decision"]["kind"] == "per-label"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--precision-target", "nolabel=0.9"], "unknown label"),
        (["--precision-target", "bug=1.5"], "in (0, 1]"),
        (["--objective", "weighted"], "objective must be one of"),
        (["--holdout", "1.5"], "--holdout must be a fraction"),
        (["-p", "nonsense=1"], "has no parameter nonsense; its parameters:"),
    ],
)
def test_bad_train_options_are_one_line_errors(tmp_path, args, message):
    f = labelled_file(tmp_path / "train.jsonl")
    r = runner.invoke(app, ["train", str(f), "--method", "tfidf-logreg", "--out", str(tmp_path / "m"), *args])
    assert r.exit_code == 1 and isinstance(r.exception, TaggerError) and message in str(r.exception), r.output
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{"text": "only one", "label": "bug"}, {"text": "two", "label": "bug"}], "need at least 2 labels"),
        ([{"text": "", "label": "bug"}, {"text": " ", "label": "docs"}], "no labelled rows"),
        ([{"text": "a", "label": "bug"}, {"text": "b", "label": "docs"}], "no labelled rows"),
    ],
)
def test_unusable_files_say_what_is_wrong(tmp_path, rows, message):
    f = tmp_path / "bad.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = runner.invoke(app, ["train", str(f), "--method", "naive-bayes", "--out", str(tmp_path / "m")])
    assert r.exit_code == 1 and isinstance(r.exception, TaggerError) and message in str(r.exception), r.output
