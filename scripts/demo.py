"""`make demo`: the main job end to end, offline, on the bundled sample of real issues.

import -> stats -> prepare -> bench the ladder -> train the best -> tag unlabelled issues
-> index the store and show similar issues -> what `fewtag triage` would do on GitHub (dry run)
-> the next 10 issues worth labelling, and the command that opens the labelling page.
Everything lands in demo-out/.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-out"
SAMPLE = ROOT / "data" / "sample" / "huggingface-datasets-issues.jsonl.gz"
CONFIG = ROOT / "configs" / "hf-datasets.toml"
BENCH_CONFIG = ROOT / "configs" / "demo-bench.toml"
TRIAGE_CONFIG = ROOT / "examples" / "fewtag.yml"
STORE = OUT / "fewtag.db"


def fewtag(*args: str, capture: bool = False) -> str:
    cmd = [sys.executable, "-m", "fewtag", *args]
    print(f"\n$ fewtag {' '.join(args)}", flush=True)
    result = subprocess.run(
        cmd,
        cwd=ROOT,
        text=True,
        capture_output=capture,
        env={**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")},
    )
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stderr)
        sys.exit(f"demo: `fewtag {args[0]}` failed with exit code {result.returncode}")
    return result.stdout if capture else ""


def best_method(results: Path) -> tuple[str, float, float]:
    """The method with the best mean VALIDATION micro F1 on the full training split (never test),
    with its mean validation and test micro F1."""
    by_method: dict[str, list[tuple[float, float]]] = {}
    with open(results, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["slice"] == "all" and row["status"] == "ok" and row.get("val_micro_f1"):
                by_method.setdefault(row["method"], []).append((float(row["val_micro_f1"]), float(row["micro_f1"])))
    name, scores = max(by_method.items(), key=lambda kv: sum(v for v, _ in kv[1]) / len(kv[1]))
    return name, sum(v for v, _ in scores) / len(scores), sum(t for _, t in scores) / len(scores)


def main() -> None:
    start = time.time()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    fewtag("import", str(SAMPLE.relative_to(ROOT)), "--store", str(STORE))
    fewtag("stats", "--store", str(STORE), "--top", "12", "--plot", str(OUT / "words_per_issue.png"))
    fewtag("prepare", "--config", str(CONFIG), "--store", str(STORE), "--out", str(OUT / "prepared"))
    fewtag(
        "bench",
        str(OUT / "prepared"),
        "--config",
        str(BENCH_CONFIG),
        "--slices",
        "8,16,32,64,128,all",
        "--seeds",
        "1",
        "--store",
        str(STORE),
        "--out",
        str(OUT / "bench"),
    )
    row, val_micro, micro = best_method(OUT / "bench" / "results.csv")
    spec = json.loads((OUT / "bench" / "config.json").read_text())
    method = next(m for m in spec["settings"]["methods"] if m["label"] == row)
    print(
        f"\nbest by validation on the full training split: {row} "
        f"(validation micro F1 {val_micro:.3f}; its test micro F1 {micro:.3f})"
    )
    params = [f"{k}={json.dumps(v)}" for k, v in method.get("params", {}).items()]
    objective = (method.get("decision") or {}).get("objective", "micro")
    fewtag(
        "train",
        str(OUT / "prepared"),
        "--method",
        method["name"],
        "--out",
        str(OUT / "model"),
        "--objective",
        objective,
        *[a for p in params for a in ("--param", p)],
    )
    unlabelled = (OUT / "prepared" / "unsup.jsonl").read_text(encoding="utf-8").splitlines()[:8]
    sample = OUT / "unlabelled-sample.jsonl"
    sample.write_text("\n".join(unlabelled) + "\n", encoding="utf-8")
    predictions = fewtag("predict", str(OUT / "model"), str(sample), capture=True)
    print("\ntags for unlabelled issues:")
    for line, pred in zip(unlabelled, predictions.splitlines()):
        issue, p = json.loads(line), json.loads(pred)
        title = issue["text"].split("\n", 1)[0][:70]
        print(f"  {p['id']:<28} {', '.join(p['labels']) or '(abstains)':<28} {title}")
    (OUT / "predictions.jsonl").write_text(predictions, encoding="utf-8")
    first = json.loads(unlabelled[0])["id"]
    fewtag("index", "--store", str(STORE), "--max-length", "128")
    fewtag("similar", first, "--store", str(STORE), "-k", "5")
    # what the GitHub Action would do to that issue: labels and the one explanatory comment, offline
    fewtag(
        "triage",
        first,
        "--config",
        str(TRIAGE_CONFIG.relative_to(ROOT)),
        "--model",
        str(OUT / "model"),
        "--store",
        str(STORE),
        "--dry-run",
    )
    fewtag(
        "next",
        "--store",
        str(STORE),
        "--config",
        str(CONFIG.relative_to(ROOT)),
        "--n",
        "10",
        "--out",
        str(OUT / "next-batch.csv"),
    )
    minutes = (time.time() - start) / 60
    print(
        f"\ndemo done in {minutes:.1f} min. Report: {OUT / 'bench' / 'report.md'}; "
        f"learning curves: {OUT / 'bench' / 'learning_curves.png'}; model: {OUT / 'model'}"
    )
    print(
        "\nlabel the next issues in your browser (fill demo-out/next-batch.csv and `fewtag import` it, or):\n"
        f"  .venv/bin/fewtag annotate --store {STORE.relative_to(ROOT)} --config {CONFIG.relative_to(ROOT)}"
        "   # then open http://127.0.0.1:8765/"
    )


if __name__ == "__main__":
    main()
