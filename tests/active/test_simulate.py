"""``fewtag simulate``: the replay loop, its results and figures, on a small made-up set."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  registers every command
from fewtag.active.sim_report import choose_strategy, summarise, write_simulation
from fewtag.active.simulate import SimulationSettings, budgets_to_match, simulate
from fewtag.cli import app
from fewtag.data.dataset import PreparedDataset, Split
from fewtag.errors import ConfigError
from tests.active.conftest import make_items


def dataset(copies: int = 2) -> PreparedDataset:
    items = make_items()
    parts: dict[str, Split] = {"train": Split(), "valid": Split(), "test": Split()}
    for c in range(copies):
        for k, (item, topic) in enumerate(items):
            name = "train" if k % 4 < 2 or c else ("valid" if k % 4 == 2 else "test")
            split = parts[name]
            split.texts.append(f"{item.title} {item.body} copy {c}")
            split.labels.append([topic])
            split.ids.append(f"{c}-{item.id}")
    return PreparedDataset(
        ["bug", "docs", "question"], False, parts["train"], parts["valid"], parts["test"], Split(), {}
    )


def test_simulate_rows_per_strategy_seed_and_budget():
    settings = SimulationSettings(["random", "hybrid"], budgets=[4, 8, 16], batch=4, seeds=2)
    rows = simulate(dataset(), settings)
    assert len(rows) == 2 * 2 * 3
    assert {(r["strategy"], r["seed"], r["budget"]) for r in rows} == {
        (s, seed, b) for s in ("random", "hybrid") for seed in (0, 1) for b in (4, 8, 16)
    }
    for r in rows:
        assert r["labelled"] == r["budget"] and r["rounds"] == r["budget"] // 4
        assert 0 <= r["macro_f1"] <= 1 and 0 <= r["val_macro_f1"] <= 1 and r["seconds_per_round"] > 0
    # the words separate the topics: 16 labels should give a clearly useful model
    assert max(r["val_micro_f1"] for r in rows if r["budget"] == 16) > 0.6


def test_simulate_is_reproducible():
    settings = SimulationSettings(["breaking-ties"], budgets=[6, 12], batch=3, seeds=1)
    a = [{k: v for k, v in r.items() if k != "seconds_per_round"} for r in simulate(dataset(), settings)]
    b = [{k: v for k, v in r.items() if k != "seconds_per_round"} for r in simulate(dataset(), settings)]
    assert a == b


def test_budgets_between_batches_are_hit_exactly():
    rows = simulate(dataset(), SimulationSettings(["random"], budgets=[5, 12], batch=4, seeds=1))
    assert [(r["budget"], r["labelled"], r["rounds"]) for r in rows] == [(5, 5, 2), (12, 12, 4)]


def test_write_simulation_files_and_summary(tmp_path):
    rows = simulate(dataset(), SimulationSettings(["random", "entropy"], budgets=[4, 8], batch=4, seeds=2))
    paths = write_simulation(rows, tmp_path, title="toy", command="fewtag simulate toy", match_at=8)
    with open(paths["results"], newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)
    for name in ("curves", "curve_entropy"):
        assert paths[name].stat().st_size > 1000
    text = paths["report"].read_text()
    assert "fewtag simulate toy" in text and "Validation macro F1" in text and "| entropy |" in text
    summary = summarise(rows)
    assert {r["seeds"] for r in summary} == {2} and all(r["macro_f1_lo"] is not None for r in summary)
    assert choose_strategy(summary) == "entropy"


def test_budgets_to_match():
    s = [
        {"strategy": "random", "budget": 128, "macro_f1": 0.5},
        {"strategy": "a", "budget": 32, "macro_f1": 0.49},
        {"strategy": "a", "budget": 64, "macro_f1": 0.51},
        {"strategy": "b", "budget": 64, "macro_f1": 0.3},
    ]
    assert budgets_to_match(s, "a") == 64 and budgets_to_match(s, "b") is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"strategies": ["margin"]}, "Available: random"),
        ({"strategies": ["random"], "budgets": [0]}, "--budgets must be positive"),
        ({"strategies": ["random"], "batch": 0}, "--batch must be a positive integer"),
        ({"strategies": ["random"], "method": "nope"}, "is not a method"),
        ({"strategies": []}, "names no strategy"),
    ],
)
def test_settings_are_checked(kwargs, message):
    with pytest.raises((ConfigError, KeyError), match=message):
        SimulationSettings(**kwargs)


@pytest.mark.slow
def test_cli_simulate_on_a_labelled_file(tmp_path):
    data = tmp_path / "issues.jsonl"
    with open(data, "w") as fh:
        for c in range(3):
            for item, topic in make_items():
                fh.write(json.dumps({"id": f"{c}-{item.id}", "text": f"{item.title} {c}", "label": topic}) + "\n")
    out = tmp_path / "sim"
    r = CliRunner().invoke(
        app,
        [
            "simulate",
            str(data),
            "--strategies",
            "random,hybrid",
            "--budgets",
            "6,12",
            "--batch",
            "6",
            "--seeds",
            "2",
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    assert "test macro F1" in r.output and (out / "curve_hybrid.png").is_file() and (out / "summary.md").is_file()
    bad = CliRunner().invoke(app, ["simulate", str(data), "--budgets", "8,x", "--out", str(out)])
    assert bad.exit_code == 1 and "comma-separated integers" in bad.output
