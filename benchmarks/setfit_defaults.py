"""Choose SetFit's defaults on validation, with a time budget; then score the choice on test once.

Data: ../shared/data/github_issues_4repos. Per repository and seed, three disjoint balanced parts
of 300 issues (train / validation / test) over the labels with at least 200 issues, as in
``train_file_4repos.py`` (each such label has enough issues for three parts: 100, 75 or 150
per label). Each candidate is fitted on train and scored on
validation (macro F1, the NLBSE measure, argmax decision); the fit's wall time and steps are printed
too. ``--test NAME`` scores one candidate on test (run once, after choosing).

    .venv/bin/python benchmarks/setfit_defaults.py --seeds 3 --log /tmp/setfit_val.jsonl
    .venv/bin/python benchmarks/setfit_defaults.py --seeds 3 --test pairs400 --log /tmp/setfit_test.jsonl

Rows already in ``--log`` are not run again (resumable).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "github_issues_4repos"
REPOS = ("bootstrap", "react", "vue", "ohmyzsh")

CANDIDATES: dict[str, tuple[str, dict]] = {
    "embed-logreg": ("embed-logreg", {"max_length": 128}),
    "pairs400": ("setfit", {"max_length": 128, "max_pairs": 400, "batch_size": 16}),
    "pairs800": ("setfit", {"max_length": 128, "max_pairs": 800, "batch_size": 16}),
    "pairs400-lr2e-5": ("setfit", {"max_length": 128, "max_pairs": 400, "batch_size": 16, "body_learning_rate": 2e-5}),
}


def three_parts(rows: list[dict], n: int, seed: int, min_per_label: int = 200):
    """Disjoint balanced train / validation / test parts of ``n`` issues each."""
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["labels"], []).append(r)
    labels = sorted(lab for lab, rs in by_label.items() if len(rs) >= min_per_label)
    rng = np.random.RandomState(seed)
    parts: list[list[dict]] = [[], [], []]
    for i, lab in enumerate(labels):
        rs = by_label[lab]
        order = rng.permutation(len(rs))
        k = n // len(labels) + (i < n % len(labels))
        if 3 * k > len(rs):
            raise SystemExit(f"{lab}: {len(rs)} issues, fewer than 3 x {k}")
        for p in range(3):
            parts[p] += [rs[j] for j in order[p * k : (p + 1) * k]]
    return labels, parts


def run_one(name: str, repo: str, seed: int, n: int, score_on: str) -> dict:
    from fewtag.data.text import TextSpec
    from fewtag.labels import binarize
    from fewtag.metrics import macro_f1
    from fewtag.registry import create

    method, params = CANDIDATES[name]
    rows = json.loads((DATA / f"{repo}.json").read_text(encoding="utf-8"))
    labels, (train, valid, test) = three_parts(rows, n, seed)
    spec = TextSpec()

    def texts(part):
        return [spec.text_of({"title": r["title"] or "", "body": r["body"] or ""}) for r in part]

    scored = valid if score_on == "valid" else test
    t0 = time.perf_counter()
    tagger = create(method, dict(params), seed=seed).fit(texts(train), [[r["labels"]] for r in train], classes=labels)
    fit_s = time.perf_counter() - t0
    proba = tagger.predict_proba(texts(scored))
    pred = np.zeros_like(proba, dtype=np.int8)
    pred[np.arange(len(pred)), proba.argmax(axis=1)] = 1
    gold = binarize([[r["labels"]] for r in scored], list(tagger.classes_))
    info = tagger.metadata_.get("setfit", {})
    return {
        "candidate": name,
        "repo": repo,
        "seed": seed,
        "on": score_on,
        "macro_f1": float(macro_f1(gold, pred)),
        "fit_s": round(fit_s, 1),
        "steps": info.get("steps"),
        "pairs": info.get("pairs_seen"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidates", default=",".join(CANDIDATES))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--repos", default=",".join(REPOS))
    ap.add_argument("--n", type=int, default=300, help="Issues per part.")
    ap.add_argument("--test", default=None, help="Score this one candidate on test instead of validation.")
    ap.add_argument("--log", type=Path, required=True, help="JSONL of finished rows (resumable).")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"error: {DATA} is not there (../shared/data)", file=sys.stderr)
        return 1
    from fewtag.metrics import format_interval, mean_interval

    on = "test" if args.test else "valid"
    names = [args.test] if args.test else args.candidates.split(",")
    repos = args.repos.split(",")
    done = [json.loads(x) for x in args.log.read_text().splitlines()] if args.log.exists() else []
    have = {(d["candidate"], d["repo"], d["seed"], d["on"]) for d in done}
    for seed in range(args.seeds):
        for name in names:
            for repo in repos:
                if (name, repo, seed, on) in have:
                    continue
                row = run_one(name, repo, seed, args.n, on)
                print(json.dumps(row), flush=True)
                with open(args.log, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
                done.append(row)
    print(f"\n| candidate | {' | '.join(repos)} | mean of repositories ({on}) | fit s (mean) |")
    print("|---|" + "---|" * (len(repos) + 2))
    for name in names:
        rows = [d for d in done if d["candidate"] == name and d["on"] == on and d["repo"] in repos]
        seeds = sorted({d["seed"] for d in rows if d["seed"] < args.seeds})
        cells = []
        for repo in repos:
            cells.append(format_interval(mean_interval([d["macro_f1"] for d in rows if d["repo"] == repo])))
        per_seed = [np.mean([d["macro_f1"] for d in rows if d["seed"] == s]) for s in seeds]
        fit = np.mean([d["fit_s"] for d in rows]) if rows else float("nan")
        print(f"| {name} | " + " | ".join(cells) + f" | {format_interval(mean_interval(per_seed))} | {fit:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
