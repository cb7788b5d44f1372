"""Numbers that can be trusted: validation columns, "best by validation", intervals, decision specs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from fewtag import registry
from fewtag.data.loading import load_data
from fewtag.errors import ConfigError
from fewtag.eval import make_settings, run_bench
from fewtag.eval.bench import bench
from fewtag.eval.curves import _band
from fewtag.eval.report import best_lines, write_run
from fewtag.methods.base import BaseTagger
from fewtag.metrics import format_interval, macro_f1, mean_interval, micro_f1, per_label_scores, t_interval
from tests.eval.conftest import KeywordZeroShot


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class ValOracle(BaseTagger):
    """Perfect on the validation texts it was given (memorised), always 'bug' elsewhere (test)."""

    needs_training = False
    objectives: list[str] = []
    specs: list[dict] = []

    def __init__(self) -> None:
        pass

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        type(self).objectives.append(self.decision_spec_.objective)
        type(self).specs.append(self.decision_spec_.to_dict())
        self.memory_ = {} if validation is None else {t: row for t, row in zip(validation[0], validation[1])}

    def _scores(self, texts):
        out = np.zeros((len(texts), len(self.classes_)))
        for i, t in enumerate(texts):
            if t in self.memory_:
                out[i] = self.memory_[t]
            else:
                out[i, self.classes_.index("bug")] = 1.0
        return out


class WrongOnValid(KeywordZeroShot):
    """Keyword scores on test (good), a wrong label on every validation text it was given (bad)."""

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        self.memory_ = {} if validation is None else {t: row for t, row in zip(validation[0], validation[1])}

    def _scores(self, texts):
        out = super()._scores(texts)
        for i, t in enumerate(texts):
            if t in self.memory_:
                out[i] = np.roll(self.memory_[t], 1)
        return out


@pytest.fixture
def fake_methods(monkeypatch):
    ValOracle.objectives = []
    ValOracle.specs = []
    for name, cls in (("test-val-oracle", ValOracle), ("test-keywords", WrongOnValid)):
        monkeypatch.setattr(cls, "name", name, raising=False)
        monkeypatch.setitem(registry._REGISTERED, name, cls)


# ------------------------------------------------------------------ validation columns


def test_val_columns_equal_a_recomputation_from_the_saved_predictions(single_data, tmp_path):
    settings = make_settings(
        single_data, out=tmp_path / "run", methods="naive-bayes,tfidf-logreg", slices="8,all", seeds=2
    )
    result = run_bench(settings)
    out = write_run(result)
    assert result.y_valid is not None and result.y_valid.shape == (32, 4)
    assert len(result.valid_predictions) == len(result.rows) == 8
    for row in result.rows:
        pred = result.valid_predictions[(row["method"], row["slice"], row["seed"])]
        assert row["val_micro_f1"] == pytest.approx(micro_f1(result.y_valid, pred))
        assert row["val_macro_f1"] == pytest.approx(macro_f1(result.y_valid, pred))
    written = read_csv(out / "results.csv")
    for row, w in zip(sorted(result.rows, key=lambda r: (r["method"], r["slice"] != "8", r["seed"])), written):
        assert (w["method"], w["slice"], int(w["seed"])) == (row["method"], row["slice"], row["seed"])
        assert float(w["val_micro_f1"]) == pytest.approx(row["val_micro_f1"], abs=1e-6)
        assert float(w["val_macro_f1"]) == pytest.approx(row["val_macro_f1"], abs=1e-6)
    # the validation rows of per_label.csv are the per-label scores of the same predictions
    per = [r for r in read_csv(out / "per_label.csv") if r["split"] == "valid"]
    assert len(per) == 8 * 4
    key = ("tfidf-logreg", "all", 1)
    f1 = per_label_scores(result.y_valid, result.valid_predictions[key])["f1"]
    got = [float(r["f1"]) for r in per if (r["method"], r["slice"], r["seed"]) == (key[0], key[1], "1")]
    np.testing.assert_allclose(got, f1, atol=1e-6)
    # and validation is not test: the two differ somewhere
    assert any(r["val_micro_f1"] != r["micro_f1"] for r in result.rows)


def test_val_columns_equal_a_direct_fit_on_the_tiny_data(single_data, tmp_path):
    result = run_bench(make_settings(single_data, out=tmp_path / "run", methods="tfidf-logreg", slices="all", seeds=2))
    data = load_data(single_data, seed=0)
    for seed in (0, 1):
        tagger = registry.create("tfidf-logreg", {}, seed=seed).fit(
            data.train.texts,
            data.train.targets(False),
            classes=data.labels,
            multi_label=False,
            validation=(data.valid.texts, data.valid.targets(False)),
            unlabelled=data.unsup.texts,
        )
        pred = tagger.predict_indicator(data.valid.texts)
        row = next(r for r in result.rows if r["seed"] == seed)
        assert row["val_micro_f1"] == pytest.approx(micro_f1(data.valid.y(data.labels), pred))
        assert row["val_macro_f1"] == pytest.approx(macro_f1(data.valid.y(data.labels), pred))


def test_zero_shot_gets_val_columns_and_known_values(single_data, tmp_path, fake_methods):
    result = bench(single_data, out=tmp_path / "run", methods="test-val-oracle", slices="8,all", seeds=1)
    rows = read_csv(tmp_path / "run" / "results.csv")
    assert len(rows) == 2
    for r in rows:  # memorised validation: perfect; test: always 'bug' (8 of 32 texts)
        assert float(r["val_micro_f1"]) == 1.0 and float(r["val_macro_f1"]) == 1.0
        assert float(r["micro_f1"]) == 0.25
        assert float(r["macro_f1"]) == pytest.approx((2 * 8 / (2 * 8 + 24)) / 4)
    assert ValOracle.objectives == ["micro"]  # fitted once for both slices
    assert result.rows[0]["status"] == "ok"


def test_empty_validation_leaves_val_columns_empty(tmp_path):
    from tests.eval.builders import write_prepared

    data = write_prepared(tmp_path / "noval", n_valid=0)
    result = bench(data, out=tmp_path / "run", methods="naive-bayes", slices="all")
    rows = read_csv(tmp_path / "run" / "results.csv")
    assert rows[0]["val_micro_f1"] == "" and rows[0]["val_macro_f1"] == "" and rows[0]["micro_f1"] != ""
    assert result.best_by_validation() == []
    assert "No validation scores" in (tmp_path / "run" / "report.md").read_text()


# ------------------------------------------------------------------ best by validation


def test_best_by_validation_picks_on_validation_even_when_test_disagrees(single_data, tmp_path, fake_methods):
    from typer.testing import CliRunner

    import fewtag.cli  # noqa: F401 - registers every command
    from fewtag.cli import app

    out = tmp_path / "run"
    res = CliRunner().invoke(
        app,
        [
            "bench",
            str(single_data),
            "--methods",
            "test-keywords,test-val-oracle",
            "--slices",
            "8,all",
            "--seeds",
            "2",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = read_csv(out / "results.csv")
    mean = {
        (m, k): np.mean([float(r[k]) for r in rows if r["method"] == m])
        for m in ("test-keywords", "test-val-oracle")
        for k in ("micro_f1", "val_micro_f1")
    }
    # the case: test would pick the keyword method, validation picks the oracle
    assert mean[("test-keywords", "micro_f1")] > mean[("test-val-oracle", "micro_f1")]
    assert mean[("test-val-oracle", "val_micro_f1")] > mean[("test-keywords", "val_micro_f1")]
    lines = [line for line in res.output.splitlines() if line.startswith("best by validation")]
    assert len(lines) == 2
    assert all(
        ": test-val-oracle, validation micro F1 1.000 ± 0.000 [1.000, 1.000]; test micro F1 0.250" in line
        for line in lines
    )
    report = (out / "report.md").read_text()
    assert "## Best by validation" in report and "best by validation at slice all" in report
    assert "Confusion matrix: test-val-oracle at slice all" in report  # the pick, not the test winner
    assert "Error analysis: test-val-oracle" in report
    assert "best by validation at slice all" in (out / "report.html").read_text()
    cfg = json.loads((out / "config.json").read_text())
    assert [(b["slice"], b["method"], b["by"]) for b in cfg["best_by_validation"]] == [
        ("8", "test-val-oracle", "val_micro_f1"),
        ("all", "test-val-oracle", "val_micro_f1"),
    ]
    assert cfg["best_by_validation"][0]["micro_f1"] == 0.25


def test_macro_objective_picks_on_validation_macro_and_tunes_for_it(single_data, tmp_path, fake_methods):
    cfg = tmp_path / "bench.toml"
    cfg.write_text(
        'objective = "macro"\nslices = "all"\n'
        '[[method]]\nname = "test-val-oracle"\n'
        '[[method]]\nname = "naive-bayes"\ndecision = { objective = "micro" }\n'
    )
    result = bench(single_data, out=tmp_path / "run", config=cfg)
    assert ValOracle.objectives == ["macro"]  # the run's objective reaches fit(decision=)
    assert [m.decision for m in result.settings.methods] == [{"objective": "macro"}, {"objective": "micro"}]
    picks = result.best_by_validation()
    assert [(p["slice"], p["method"], p["by"]) for p in picks] == [("all", "test-val-oracle", "val_macro_f1")]
    assert "validation macro F1 1.000 (n=1)" in best_lines(result)[0]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["objective"] == "macro"
    assert saved["decision_objectives"] == {"test-val-oracle": "macro", "naive-bayes": "micro"}
    assert saved["settings"]["methods"][1]["decision"] == {"objective": "micro"}


def test_ties_on_validation_go_to_the_other_score_then_the_run_order(single_data, tmp_path):
    result = run_bench(
        make_settings(single_data, out=tmp_path / "run", methods="naive-bayes,tfidf-logreg", slices="all", seeds=1)
    )
    for r in result.rows:
        r["val_micro_f1"] = 0.5
        r["val_macro_f1"] = 0.4 if r["method"] == "naive-bayes" else 0.3
    assert result.best_by_validation()[0]["method"] == "naive-bayes"
    for r in result.rows:
        r["val_macro_f1"] = 0.4
    assert result.best_by_validation()[0]["method"] == "naive-bayes"  # first in the run
    assert result.best_by_validation("macro")[0]["by"] == "val_macro_f1"


# ------------------------------------------------------------------ decision specs in a bench config


@pytest.mark.parametrize(
    "table, match",
    [
        ('decision = { objectiv = "macro" }', r"unknown key\(s\) objectiv; valid keys: objective, precision_target"),
        ('decision = { objective = "mcro" }', "objective must be one of micro, macro; got 'mcro'"),
        ("decision = { precision_target = 1.5 }", r"precision targets must be numbers in \(0, 1\]"),
        ('decision = { kinds = ["top-3"] }', "decision kinds must be among"),
        ('decision = "macro"', "must be a table"),
    ],
)
def test_bad_decision_tables_are_config_errors(single_data, tmp_path, table, match):
    cfg = tmp_path / "bench.toml"
    cfg.write_text(f'[[method]]\nname = "naive-bayes"\n{table}\n')
    with pytest.raises(ConfigError, match=match):
        make_settings(single_data, out=tmp_path / "run", config=cfg)
    assert not (tmp_path / "run").exists()


def test_bad_top_level_objective_and_unknown_target_label(single_data, tmp_path):
    cfg = tmp_path / "bench.toml"
    cfg.write_text('objective = "f1"\n[[method]]\nname = "naive-bayes"\n')
    with pytest.raises(ConfigError, match="objective must be one of micro, macro; got 'f1'"):
        make_settings(single_data, out=tmp_path / "run", config=cfg)
    cfg.write_text('[[method]]\nname = "naive-bayes"\ndecision = { precision_target = { bugg = 0.9 } }\n')
    settings = make_settings(single_data, out=tmp_path / "run", config=cfg)
    with pytest.raises(ConfigError, match="decision of method 'naive-bayes'.*bugg"):
        run_bench(settings)
    assert not (tmp_path / "run").exists()


def test_the_decision_table_reaches_fit(single_data, tmp_path, fake_methods):
    cfg = tmp_path / "bench.toml"
    cfg.write_text(
        '[[method]]\nname = "test-val-oracle"\n'
        'decision = { precision_target = { bug = 0.9 }, kinds = ["per-label"], abstain = true }\n'
    )
    bench(single_data, out=tmp_path / "run", config=cfg, slices="all", seeds=2)
    assert len(ValOracle.specs) == 2  # once per seed
    for spec in ValOracle.specs:
        assert spec["objective"] == "micro" and spec["precision_target"] == {"bug": 0.9}
        assert spec["kinds"] == ["per-label"] and spec["abstain"] is True
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["settings"]["methods"][0]["decision"] == {
        "precision_target": {"bug": 0.9},
        "kinds": ["per-label"],
        "abstain": True,
    }
    assert "precision_target={'bug': 0.9}" in (tmp_path / "run" / "report.md").read_text()


# ------------------------------------------------------------------ intervals


def test_t_interval_on_known_numbers():
    lo, hi = t_interval([0.70, 0.72, 0.74])
    half = 4.302652729911275 * 0.02 / np.sqrt(3)  # t_{0.975, 2} * sd / sqrt(n)
    assert (lo, hi) == pytest.approx((0.72 - half, 0.72 + half))
    assert (lo, hi) == pytest.approx(stats.t.interval(0.95, 2, loc=0.72, scale=stats.sem([0.70, 0.72, 0.74])))
    lo, hi = t_interval([0.0, 1.0])  # n = 2: t = 12.706, a wide interval
    assert (lo, hi) == pytest.approx((0.5 - 12.706204736 * 0.5, 0.5 + 12.706204736 * 0.5))
    assert t_interval([0.6, 0.6, 0.6]) == pytest.approx((0.6, 0.6))
    assert t_interval([0.6]) is None
    assert t_interval([0.70, 0.72, 0.74], confidence=0.9)[0] > t_interval([0.70, 0.72, 0.74])[0]
    with pytest.raises(ValueError):
        t_interval([0.5, 0.6], confidence=1.5)
    r = mean_interval([0.70, 0.72, 0.74])
    assert (r["n"], r["mean"], r["sd"]) == (3, pytest.approx(0.72), pytest.approx(0.02))
    assert format_interval(r) == "0.720 ± 0.020 [0.670, 0.770]"
    assert format_interval(mean_interval([0.7])) == "0.700 (n=1)"


def test_summary_rows_carry_the_interval_and_the_figure_draws_it(single_data, tmp_path):
    result = run_bench(make_settings(single_data, out=tmp_path / "run", methods="naive-bayes", slices="8,all", seeds=3))
    entry = next(e for e in result.summary() if e["slice"] == "8")
    micro = [r["micro_f1"] for r in result.rows if r["slice"] == "8"]
    assert entry["n"] == 3 and entry["micro_f1"] == pytest.approx(np.mean(micro))
    assert entry["micro_f1_sd"] == pytest.approx(np.std(micro, ddof=1))
    assert (entry["micro_f1_lo"], entry["micro_f1_hi"]) == pytest.approx(t_interval(micro))
    assert entry["val_micro_f1_lo"] is not None
    lo, hi = _band([entry], "micro_f1")
    assert (lo[0], hi[0]) == pytest.approx(t_interval(micro))
    out = write_run(result)
    report = (out / "report.md").read_text()
    assert format_interval(mean_interval(micro)) in report
    assert "95% t-interval of the mean" in report and "## Micro F1 (validation)" in report
    one = run_bench(make_settings(single_data, out=tmp_path / "one", methods="naive-bayes", slices="all"))
    e1 = one.summary()[0]
    assert e1["n"] == 1 and e1["micro_f1_lo"] is None and e1["micro_f1_sd"] == 0.0
    assert np.isnan(_band([e1], "micro_f1")[0][0])  # no band for one seed
    assert "One seed (n=1): no standard deviation or interval" in (write_run(one) / "report.md").read_text()
    assert "(n=1)" in best_lines(one)[0]


# ------------------------------------------------------------------ layers


@pytest.mark.parametrize(
    "module, absent",
    [
        ("fewtag.eval.metrics", ("matplotlib", "fewtag.eval.bench", "fewtag.eval.report")),
        ("fewtag.metrics", ("matplotlib", "fewtag.eval", "scipy")),
        ("fewtag.eval.report", ("matplotlib", "fewtag.eval.bench")),
        ("fewtag.eval", ("matplotlib", "fewtag.eval.bench", "fewtag.eval.metrics")),
    ],
)
def test_imports_stay_light(module, absent):
    code = f"import sys, {module}; print([m for m in {list(absent)!r} if m in sys.modules])"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]", res.stdout


def test_lazy_package_names_resolve():
    import fewtag.eval as ev

    assert ev.micro_f1 is micro_f1
    assert ev.BenchResult.__module__ == "fewtag.eval.result"
    assert callable(ev.run_bench) and callable(ev.write_run)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ev.nope  # noqa: B018


def test_methods_import_metrics_from_fewtag_metrics_not_the_bench_package():
    from pathlib import Path

    import fewtag.methods

    folder = Path(fewtag.methods.__file__).parent
    sources = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.py")}
    assert [name for name, text in sources.items() if "fewtag.eval" in text] == []
    # nor decision's private helpers: the public fast_micro_f1 / fast_macro_f1 live in fewtag.metrics
    assert [name for name, text in sources.items() if "import _micro" in text or ", _micro" in text] == []
