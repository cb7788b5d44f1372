"""`fewtag train FILE` before and after out-of-fold training, on four repositories' issues.

Data: ../shared/data/github_issues_4repos (bootstrap, react, vue, ohmyzsh; one label per issue).
Per repository and seed, a balanced sample of 300 training and 300 test issues is drawn over the
labels that have at least 200 issues (so both parts can be balanced). Two ways to train on the
300 labelled issues are compared on the same test issues (macro F1, the NLBSE measure):

- ``before``: what ``fewtag train FILE`` did until now: split the file 50/25/25, fit on the
  first half, tune on the second part (the last part is never used), and predict from the raw
  ``title + body`` text (the text path the old ``fewtag predict`` used);
- ``after``: ``fewtag train FILE`` now: fit on all 300 rows, tune on out-of-fold scores
  (5-fold), predict through the model's own text path (``tagger.text_of``).

Also printed: the cross-validated estimate ``train`` saves in ``fewtag.json`` next to the test
figure, so a user can see how close the estimate is.

    .venv/bin/python benchmarks/train_file_4repos.py --methods tfidf-logreg --seeds 3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "github_issues_4repos"
REPOS = ("bootstrap", "react", "vue", "ohmyzsh")


def balanced_parts(rows: list[dict], n_train: int, n_test: int, seed: int, min_per_label: int = 200):
    """Balanced train and test rows (disjoint) over labels with at least ``min_per_label`` issues."""
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["labels"], []).append(r)
    labels = sorted(lab for lab, rs in by_label.items() if len(rs) >= min_per_label)
    rng = np.random.RandomState(seed)
    train, test = [], []
    for i, lab in enumerate(labels):
        rs = by_label[lab]
        order = rng.permutation(len(rs))
        k_tr = n_train // len(labels) + (i < n_train % len(labels))
        k_te = n_test // len(labels) + (i < n_test % len(labels))
        train += [rs[j] for j in order[:k_tr]]
        test += [rs[j] for j in order[k_tr : k_tr + k_te]]
    return labels, train, test


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i, r in enumerate(rows):
            fh.write(
                json.dumps(
                    {"id": f"{r['id']}-{i}", "title": r["title"] or "", "body": r["body"] or "", "label": r["labels"]}
                )
                + "\n"
            )


def before(train_file: Path, method: str, test: list[dict], labels: list[str], seed: int) -> np.ndarray:
    """The old behaviour, rebuilt from today's parts: fit on half, tune on a quarter, raw predict text."""
    from fewtag.data.loading import load_data
    from fewtag.registry import create

    ds = load_data(train_file, seed=seed)
    train = ds.train
    tagger = create(method, seed=seed).fit(
        train.texts, train.targets(False), classes=ds.labels, validation=(ds.valid.texts, ds.valid.targets(False))
    )
    raw = [f"{r['title'] or ''}\n\n{r['body'] or ''}".strip() if r["body"] else (r["title"] or "") for r in test]
    return tagger.predict_indicator(raw), len(train)


def after(train_file: Path, method: str, test: list[dict], out: Path, seed: int):
    from fewtag.pipeline import predict_records, train_model

    tagger, metrics = train_model(train_file, method, out, seed=seed)
    records = [(str(i), {"title": r["title"] or "", "body": r["body"] or ""}) for i, r in enumerate(test)]
    rows = list(predict_records(tagger, records))
    pred = np.array([[lab in row["labels"] for lab in tagger.classes_] for row in rows])
    return pred, tagger.classes_, metrics


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--methods", default="tfidf-logreg")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--repos", default=",".join(REPOS))
    ap.add_argument("--n-train", type=int, default=300)
    ap.add_argument("--n-test", type=int, default=300)
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"error: {DATA} is not there (../shared/data)", file=sys.stderr)
        return 1
    from fewtag.labels import binarize
    from fewtag.metrics import format_interval, macro_f1, mean_interval

    results: dict[tuple[str, str, str], list[float]] = {}
    for method in args.methods.split(","):
        for seed in range(args.seeds):
            for repo in args.repos.split(","):
                rows = json.loads((DATA / f"{repo}.json").read_text(encoding="utf-8"))
                labels, train, test = balanced_parts(rows, args.n_train, args.n_test, seed)
                with tempfile.TemporaryDirectory() as tmp:
                    f = Path(tmp) / "train.jsonl"
                    write_jsonl(f, train)
                    t0 = time.perf_counter()
                    gold_b = binarize([[r["labels"]] for r in test], labels)
                    pred_b, n_fit = before(f, method, test, labels, seed)
                    pred_a, classes, metrics = after(f, method, test, Path(tmp) / "model", seed)
                    gold_a = binarize([[r["labels"]] for r in test], classes)
                    fb, fa = macro_f1(gold_b, pred_b), macro_f1(gold_a, pred_a)
                    est = metrics["estimate"]["macro_f1"]["mean"]
                results.setdefault((method, repo, "before"), []).append(fb)
                results.setdefault((method, repo, "after"), []).append(fa)
                results.setdefault((method, repo, "estimate"), []).append(est)
                print(
                    f"{method:14} seed {seed} {repo:10} labels {len(labels)} before (fit on {n_fit}) "
                    f"{fb:.3f}  after (all {len(train)}) {fa:.3f}  cv estimate {est:.3f}  "
                    f"{time.perf_counter() - t0:.1f} s",
                    flush=True,
                )
    print()
    print("| method | repository | before: macro F1 | after: macro F1 | after: 5-fold estimate |")
    print("|---|---|---|---|---|")
    for method in args.methods.split(","):
        repos = args.repos.split(",")
        for repo in repos + ["mean of repositories"]:
            cells = []
            for kind in ("before", "after", "estimate"):
                if repo == "mean of repositories":
                    per_seed = np.mean([results[(method, r, kind)] for r in repos], axis=0)
                else:
                    per_seed = results[(method, repo, kind)]
                cells.append(format_interval(mean_interval(list(per_seed))))
            print(f"| {method} | {repo} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
