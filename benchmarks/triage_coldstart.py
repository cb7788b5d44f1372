"""Cold start of `fewtag triage` on one issue with an int8 MiniLM model: wall time from process
start to exit, each run a new process (`python -m fewtag triage ... --store DB --dry-run`, offline).

The model is embed-logreg on all-MiniLM-L6-v2 with the `onnx-int8` encoder backend, fitted on
`--train` labelled huggingface/datasets issues; the store holds the whole bundled sample (7,258
items), so the comment's nearest-labelled-issues search runs over its 1,511 labelled issues.
"Cold" is a new Python process each time (the OS file cache is warm after the first run, as on a
runner after `pip install`); the first run is reported apart from the rest.

    nice -n 5 .venv/bin/python benchmarks/triage_coldstart.py --runs 5 --out benchmarks/results/triage_coldstart.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_replay import KEEP, ROOT, load_issues  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(ROOT / "data/sample/huggingface-datasets-issues.jsonl.gz"))
    ap.add_argument("--train", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--backend", default="onnx-int8")
    ap.add_argument("--method", default="embed-logreg", help="embed-logreg (with --backend) or e.g. tfidf-logreg")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from fewtag.registry import get_method

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    rows = load_issues(Path(args.data))
    train, issue = rows[: args.train], rows[-1]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "fewtag.db"
        subprocess.run(
            [sys.executable, "-m", "fewtag", "-q", "import", args.data, "--store", str(db)],
            env=env,
            check=True,
            capture_output=True,
        )
        model = Path(tmp) / "model"
        start = time.perf_counter()
        kwargs = {"backend": args.backend} if args.method == "embed-logreg" else {}
        get_method(args.method)(**kwargs).fit(
            [f"{r['title']}\n\n{r['body']}" for r in train], [r["labels"] for r in train], multi_label=True
        ).save(model)
        what = f"{args.method} ({args.backend})" if args.method == "embed-logreg" else args.method
        print(f"model: {what} on {len(train)} issues, built in {time.perf_counter() - start:.1f} s")
        cfg = Path(tmp) / "fewtag.yml"
        cfg.write_text("labels: [" + ", ".join(json.dumps(k) for k in KEEP) + "]\nmax_labels: 2\n")
        cmd = [
            sys.executable,
            "-m",
            "fewtag",
            "triage",
            f"huggingface/datasets#{issue['id']}",
            "--config",
            str(cfg),
            "--model",
            str(model),
            "--store",
            str(db),
            "--dry-run",
        ]
        times = []
        for i in range(args.runs):
            t0 = time.perf_counter()
            res = subprocess.run(cmd, env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if res.returncode != 0:
                raise SystemExit(f"triage failed: {res.stderr}")
            print(f"run {i + 1}: {times[-1]:.2f} s  ({res.stdout.splitlines()[0]})", flush=True)
    rest = times[1:] or times
    summary = {
        "first_s": round(times[0], 2),
        "median_rest_s": round(statistics.median(rest), 2),
        "max_s": round(max(times), 2),
        "runs": [round(t, 3) for t in times],
        "backend": args.backend if args.method == "embed-logreg" else None,
        "method": args.method,
        "load_average": os.getloadavg(),
    }
    print(json.dumps(summary))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"command": " ".join(sys.argv), **summary}, indent=1))


if __name__ == "__main__":
    main()
