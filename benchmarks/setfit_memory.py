"""Peak memory of one setfit fit on 300 real issues, in its own process.

Data: ../shared/data/github_issues_4repos/react.json, the balanced 300 training issues of
``train_file_4repos.balanced_parts`` (seed 0). Prints steps, forward passes, the largest padded
tokens of a pass, seconds per step and the process's peak RSS (``ru_maxrss``). Run once per setting:

    .venv/bin/python benchmarks/setfit_memory.py --max-length 128 --max-steps 6
    .venv/bin/python benchmarks/setfit_memory.py --max-length 512 --max-steps 4
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--max-steps", type=int, default=6)
    ap.add_argument("--token-budget", type=int, default=2048)
    ap.add_argument("--repo", default="react")
    args = ap.parse_args(argv)
    from train_file_4repos import DATA, balanced_parts

    from fewtag.data.text import TextSpec
    from fewtag.registry import create

    rows = json.loads((DATA / f"{args.repo}.json").read_text(encoding="utf-8"))
    labels, train, _ = balanced_parts(rows, 300, 300, 0)
    spec = TextSpec(max_chars=None) if args.max_length > 256 else TextSpec()
    texts = [spec.text_of({"title": r["title"] or "", "body": r["body"] or ""}) for r in train]
    params = {"max_length": args.max_length, "max_steps": args.max_steps, "token_budget": args.token_budget}
    tagger = create("setfit", params, seed=0)
    t0 = time.perf_counter()
    tagger.fit(texts, [[r["labels"]] for r in train], classes=labels)
    m = tagger.metadata_["setfit"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"max_length {args.max_length}, token budget {args.token_budget}: {m['steps']} steps, "
        f"{m['forward_passes']} passes, at most {m['max_tokens_per_pass']} tokens a pass, "
        f"{m['seconds'] / max(m['steps'], 1):.1f} s/step, fit {time.perf_counter() - t0:.0f} s, peak RSS {rss:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
