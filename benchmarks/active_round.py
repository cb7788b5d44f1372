"""One labelling round (retrain + score the pool + pick) on a 10k-issue pool, timed.

The store holds ``--pool`` unlabelled issues plus ``--labelled`` labelled ones (annotations),
taken from ../shared/data: the four repositories' issues (their labels mapped onto
bug / feature / question / docs, as in benchmarks/results/active/4repos.toml) and, to reach
10k, the huggingface/datasets dump (issues and pull requests, unlabelled). A round is what
``fewtag next`` and the annotate page do after each batch: ``train_current`` (one fit, no
cross-validation) then ``next_batch`` (pool and labelled set from the store, texts, scores
of the whole pool, vectors for the diversity step, the hybrid pick). Between rounds 10 more
issues are labelled, so every round trains a new model.

The first round fills the caches (TF-IDF + SVD vectors, or the encoder's embeddings, kept in
the store); the rounds after it are the ones the target is about ("embeddings cached, not
recomputed"). Also timed: the same round with the cross-validated estimate (``--estimate``,
k + 1 fits), which ``fewtag next`` does by default and the page does in the background.

    nice -n 5 .venv/bin/python benchmarks/active_round.py --methods tfidf-logreg,embed-logreg

The machine's 2 cores are shared with other jobs: the times are upper bounds.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("FEWTAG_DATA", ROOT.parent / "shared" / "data"))
MAP = {
    "confirmed": "bug", "Type: Bug": "bug", "Bug": "bug", "bug": "bug",
    "Type: Feature Request": "feature", "Type: Enhancement": "feature", "feature request": "feature",
    "Feature": "feature", "Enhancement": "feature", "feature": "feature",
    "Type: Question": "question", "Support": "question", "Type: documentation": "docs", "docs": "docs",
}  # fmt: skip


def build_store(path: Path, n_pool: int, n_labelled: int):
    """A store with ``n_labelled`` annotated issues and ``n_pool`` others, none carrying GitHub labels."""
    import numpy as np

    from fewtag.data.store import Item, Store

    every = []
    for repo in ("bootstrap", "react", "vue", "ohmyzsh"):
        for k, row in enumerate(json.loads((DATA / "github_issues_4repos" / f"{repo}.json").read_text())):
            item = Item(f"4repos/{repo}", str(k), number=k, title=row.get("title") or "", body=row.get("body") or "")
            every.append((item, MAP.get(row.get("labels") or "")))
    order = np.random.default_rng(0).permutation(len(every))  # the files are sorted by label
    labelled, rest = [], []
    for k in order:
        item, tag = every[k]
        (labelled if tag and len(labelled) < n_labelled else rest).append((item, tag))
    with gzip.open(ROOT / "data" / "sample" / "huggingface-datasets-issues.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            rest.append((Item("huggingface/datasets", str(r["number"]), number=r["number"],
                              title=r.get("title") or "", body=r.get("body") or ""), None))  # fmt: skip
    rest = rest[:n_pool]
    s = Store(path)
    s.upsert_items([i for i, _ in labelled + rest])
    s.add_annotations([(i.repo, i.id, [t]) for i, t in labelled], source="benchmark")
    spare = [(i, t) for i, t in rest if t]
    return s, spare


def one_round(store, task, method, estimate):
    from fewtag.active.session import next_batch, train_current

    t0, c0 = time.perf_counter(), time.process_time()
    trained = train_current(store, task, method=method, estimate=estimate)
    t1, c1 = time.perf_counter(), time.process_time()
    batch = next_batch(store, task, n=20, strategy="hybrid", method=method, trained=trained)
    t2, c2 = time.perf_counter(), time.process_time()
    return t1 - t0, t2 - t1, t2 - t0, batch, c1 - c0, c2 - c1, c2 - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default="tfidf-logreg,embed-logreg")
    ap.add_argument("--pool", type=int, default=10_000)
    ap.add_argument("--labelled", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="Timed rounds after the first (cache-filling) one.")
    ap.add_argument("--work", default=None, help="Folder for the store (kept: the embedding cache survives runs).")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from fewtag.active.session import pool
    from fewtag.active.task import LabelTask
    from fewtag.embed import configure_cache

    work = Path(args.work or tempfile.mkdtemp(prefix="active-round-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"round-{args.pool}-{args.labelled}.db"
    fresh = not db.exists()
    if fresh:
        store, spare = build_store(db, args.pool, args.labelled)
    else:
        from fewtag.data.store import Store

        store, spare = Store(db), []
    configure_cache(db)  # encoder embeddings live in the same store
    task = LabelTask.from_labels("bug,feature,question,docs")
    print(f"store {db}: {store.count()} items, pool {len(pool(store, task))}; load {os.getloadavg()[0]:.1f}")
    rows = []
    for method in args.methods.split(","):
        first = one_round(store, task, method, estimate=False)
        times = []
        for r in range(args.rounds):
            add = spare[10 * r : 10 * r + 10] if fresh else []
            store.add_annotations([(i.repo, i.id, [t]) for i, t in add], source="benchmark")
            times.append(one_round(store, task, method, estimate=False))
        cv = one_round(store, task, method, estimate=True)
        rows.append((method, first, times, cv))
        print(f"{method}: first round {first[2]:.2f} s; next picks: "
              + "; ".join(f"{s.item.repo}#{s.item.number} {s.reason}" for s in times[-1][3][:3]))  # fmt: skip
    n_lab = len(store.current_annotations())
    print()
    print("| method | pool | labelled | first round (fills caches) | round, cached (train + pick) | "
          "round with CV estimate |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for method, first, times, cv in rows:
        tot = [t[2] for t in times]
        mean, sd = statistics.mean(tot), (statistics.stdev(tot) if len(tot) > 1 else 0.0)
        train, pick = statistics.mean(t[0] for t in times), statistics.mean(t[1] for t in times)
        ctrain, cpick = statistics.mean(t[4] for t in times), statistics.mean(t[5] for t in times)
        print(f"| {method} | {args.pool} | ~{n_lab} | {first[2]:.1f} s (CPU {first[6]:.1f}) | "
              f"{train:.2f} + {pick:.2f} = {mean:.2f} ± {sd:.2f} s (CPU {ctrain:.2f} + {cpick:.2f} = "
              f"{ctrain + cpick:.2f}), {len(tot)} rounds | {cv[2]:.1f} s (CPU {cv[6]:.1f}) |")  # fmt: skip
    print(f"\nload average after: {os.getloadavg()[0]:.1f} (2 shared cores: times are upper bounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
