"""``fewtag tag`` at scale: items/s of the local and the Ray engine, memory per actor, and a cost model.

For each model (tfidf-logreg, and embed-logreg on the int8 MiniLM encoder) and each engine, the real
command (``fewtag --quiet tag MODEL --store COPY --engine E --json``) runs in a fresh process on a
fresh copy of a store of real huggingface/datasets issues (the bundled sample), ``--repeats`` times.
Reported: wall seconds of the command, items/s, the engine's start-up (model load; for Ray also the
start of a local Ray instance), the per-item time after start-up, and each Ray actor's peak
resident memory (the whole worker process). The single writer is measured alone: predictions
committed per second by ``Store.put_predictions`` in batches of ``--batch-size``.

Cost model for ``--project`` items on N workers (one CPU each)::

    T(N) = fixed + items x per-item actor-seconds / N,   but never below items / writer rate

The per-item actor-seconds are the actors' predicting time per item in the Ray runs here (the chunk
JSON in and out included); "fixed" is the rest of a Ray run's wall time (Ray start-up, actor start
and model load, the pipeline's start and drain, the process itself). The 2 cores are shared with
other jobs, so every time is an upper bound.

    nice -n 5 .venv/bin/python benchmarks/tag_scale.py --items 3000 --minilm-items 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "huggingface-datasets-issues.jsonl.gz"


def _base_store(folder: Path, n: int) -> Path:
    """A store holding the first ``n`` items of the sample (issues and PRs, all tagged with --prs)."""
    from fewtag.data.store import Store

    full = folder / "full.db"
    subprocess.run(
        [sys.executable, "-m", "fewtag", "--quiet", "import", str(SAMPLE), "--store", str(full)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    out = folder / f"base-{n}.db"
    with Store(full) as src, Store(out) as dst:
        dst.upsert_items(list(src.items())[:n])
    return out


def _train(folder: Path, method: str, params: dict, n_train: int) -> Path:
    """Fit ``method`` on labelled sample issues (no tuning: speed, not quality, is measured here)."""
    from fewtag.data.store import Store
    from fewtag.registry import create

    with Store(folder / "full.db") as s:
        labelled = [it for it in s.items(include_prs=False) if it.labels][:n_train]
    texts = [it.text for it in labelled]
    labels = [it.labels for it in labelled]
    model = folder / method.replace("/", "_")
    create(method.split("+")[0], params, seed=0).fit(texts, labels).save(model)
    return model


def _run(model: Path, store: Path, engine: str, workers: int, batch: int) -> dict:
    cmd = [sys.executable, "-m", "fewtag", "--quiet", "tag", str(model), "--store", str(store), "--prs"]
    cmd += ["--engine", engine, "--batch-size", str(batch), "--json"]
    if engine == "ray":
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    report["wall_s"] = wall
    return report


def _predictions(store: Path) -> dict:
    from fewtag.data.store import Store

    with Store(store) as s:
        return {(p["repo"], p["id"]): (p["labels"], p["scores"], p["abstained"]) for p in s.predictions()}


def _compare(a: dict, b: dict) -> str:
    if a == b:
        return f"identical predictions ({len(a)} items, labels and every score)"
    labels = sum(a[k][0] != b.get(k, (None,))[0] for k in a)
    return f"{sum(a[k] != b.get(k) for k in a)} of {len(a)} items differ ({labels} in their labels)"


def _writer_rate(folder: Path, n: int, batch: int) -> float:
    from fewtag.data.store import Store

    classes = [f"label{i}" for i in range(20)]
    rows = [
        {"repo": "o/r", "id": str(i), "labels": ["label1"], "scores": {c: 0.1234 for c in classes}, "abstained": False}
        for i in range(n)
    ]
    with Store(folder / "writer.db") as s:
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            s.put_predictions("m", "h", rows[start : start + batch])
        return n / (time.perf_counter() - t0)


def _stats(values: list[float]) -> str:
    from fewtag.metrics import format_interval, mean_interval

    return format_interval(mean_interval(values), digits=2) if len(values) > 1 else f"{values[0]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=3000, help="items tagged with tfidf-logreg")
    ap.add_argument("--minilm-items", type=int, default=1000, help="items tagged with the int8 MiniLM model")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--project", type=float, default=10_000_000, help="items of the cost model")
    ap.add_argument("--no-minilm", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the raw runs here")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    work = Path(tempfile.mkdtemp(prefix="tag-scale-"))
    try:
        runs: dict[str, dict[str, list[dict]]] = {}
        kept: dict[tuple[str, str], dict] = {}
        same: dict[str, str] = {}
        sizes = {"tfidf-logreg": args.items}
        base = {args.items: _base_store(work, args.items)}
        models = {"tfidf-logreg": _train(work, "tfidf-logreg", {}, 600)}
        if not args.no_minilm:
            name = "embed-logreg (MiniLM onnx-int8, 128 tokens)"
            models[name] = _train(work, "embed-logreg", {"backend": "onnx-int8", "max_length": 128}, 200)
            sizes[name] = args.minilm_items
            if args.minilm_items not in base:
                from fewtag.data.store import Store

                base[args.minilm_items] = work / f"base-{args.minilm_items}.db"
                with Store(base[args.items]) as src, Store(base[args.minilm_items]) as dst:
                    dst.upsert_items(list(src.items())[: args.minilm_items])
        for name, model in models.items():
            runs[name] = {"local": [], "ray": []}
            for r in range(args.repeats):
                for engine in ("local", "ray") if r % 2 == 0 else ("ray", "local"):  # alternate: load drifts
                    store = work / f"run-{engine}.db"
                    shutil.copy(base[sizes[name]], store)
                    report = _run(model, store, engine, args.workers, args.batch_size)
                    runs[name][engine].append(report)
                    print(f"{name} {engine} #{r}: {report['written']} items in {report['wall_s']:.1f} s", flush=True)
                    if r == 0:
                        kept[(name, engine)] = _predictions(store)
                    store.unlink()
            same[name] = _compare(kept[(name, "local")], kept[(name, "ray")])
        writer = [_writer_rate(work, 20_000, args.batch_size) for _ in range(args.repeats)]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()[0]
    print(f"\n{args.workers} Ray actors, batch {args.batch_size}, {args.repeats} runs each, load average {load:.1f}")
    print("(2 CPU cores shared with other jobs: times are upper bounds; mean ± sd [95% interval])\n")
    head = "| model | engine | items | wall s (command) | items/s (command) | start-up s | predict ms/item (per actor)"
    print(head + " | peak MiB per actor |")
    print("|---|---|---|---|---|---|---|---|")
    costs = {}
    for name, by_engine in runs.items():
        for engine, reps in by_engine.items():
            n = reps[0]["written"]
            wall = [r["wall_s"] for r in reps]
            rate = [r["written"] / r["wall_s"] for r in reps]
            start = [r["startup_s"] for r in reps]
            per_item = [r["busy_s"] / max(r["written"], 1) for r in reps]  # predicting only, per actor
            actors = [mb for r in reps for mb in r["actors"].values()]
            mem = _stats(actors) if actors else "—"
            print(f"| {name} | {engine} | {n} | {_stats(wall)} | {_stats(rate)} | {_stats(start)} | "
                  f"{_stats([p * 1000 for p in per_item])} | {mem} |")  # fmt: skip
            if engine == "ray":  # fixed = what the run took beyond its actors' predicting, spread over them
                workers = reps[0]["workers"]
                actor_s = sum(per_item) / len(per_item)
                fixed = [r["wall_s"] - r["busy_s"] / workers for r in reps]
                costs[name] = (actor_s, sum(fixed) / len(fixed))
    w = sum(writer) / len(writer)
    hours = args.project / w / 3600
    print(f"\nsingle writer (Store.put_predictions, batches of {args.batch_size}, 20 classes): "
          f"{_stats(writer)} predictions/s -> {hours:.2f} h for {args.project:,.0f} at best")  # fmt: skip
    print(f"\ncost model for {args.project:,.0f} items (hours; start-up + items x actor-s per item / N, "
          "floored by the writer)\n")  # fmt: skip
    ns = [1, 2, 8, 32, 128, 512]
    print(
        "| model | actor-ms per item | fixed s (start-up, actors, drain) | " + " | ".join(f"N={n}" for n in ns) + " |"
    )
    print("|---|---|---|" + "---|" * len(ns))
    for name, (actor_s, boot) in costs.items():
        cells = []
        for n in ns:
            t = boot + args.project * actor_s / n
            floor = args.project / w
            cells.append(f"{max(t, floor) / 3600:.2f}" + ("*" if floor > t else ""))
        print(f"| {name} | {actor_s * 1000:.2f} ms | {boot:.1f} | " + " | ".join(cells) + " |")
    print("\n* the single SQLite writer is the limit there, not the workers")
    print("\nray vs local, first run of each: " + "; ".join(f"{k}: {v}" for k, v in same.items()))
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "writer": writer, "load": load}, indent=1))


if __name__ == "__main__":
    main()
