"""Encoder backends vs sentence-transformers' ``encode``: texts/s, peak RSS, fidelity, F1 lost.

Embeds the same issue texts (the 4-repository set through the model's text path, ``--max-length``
tokens) with sentence-transformers' own ``encode`` (the reference, batches of 32) and with each
fewtag backend, in one process, the caches off. The texts are cut into ``--rounds`` parts and the
runs are interleaved (every backend embeds part 1, then every backend part 2, in a rotated order),
so a change of load on shared cores hits all backends alike; the ratio to the reference is
total reference time / total backend time. ``auto`` is what the default resolves to here (the CPU
flags are printed). Peak RSS is measured in a child process per backend (load the model, embed
64 texts, ``ru_maxrss``).

``--f1`` adds the downstream cost: ``embed-logreg`` 5-fold out-of-fold macro/micro F1 on the
balanced 300 training issues of each of the 4 repositories (``long_text.py``'s validation
protocol, never the test part), 3 fold partitions, per backend, and the paired difference to
fp32 ``torch``.

    nice -n 5 .venv/bin/python benchmarks/encoder_speed.py --texts 1000 --f1 --cache /tmp/es/emb.db
    nice -n 5 .venv/bin/python benchmarks/encoder_speed.py --model sentence-transformers/all-mpnet-base-v2 \\
        --texts 200 --backends torch,torch-bf16,onnx-int8
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
BACKENDS = ["torch", "auto", "onnx", "onnx-int8"]
REFERENCE = "st-encode"


def issue_texts(n: int) -> list[str]:
    """``n`` issue texts, round-robin over the 4 repositories, through the default text path."""
    from long_text import DATA, REPOS

    from fewtag.data.text import TextSpec

    spec, per_repo = TextSpec(), []
    for repo in REPOS:
        rows = json.loads((DATA / f"{repo}.json").read_text(encoding="utf-8"))
        rng = np.random.RandomState(1)
        per_repo.append([rows[i] for i in rng.permutation(len(rows))])
    rows = [r for group in zip(*per_repo) for r in group][:n]
    return [spec.text_of({"title": r["title"] or "", "body": r["body"] or ""}) for r in rows]


def embedder(model: str, backend: str, max_length: int, batch_size: int):
    """``(name, resolved backend, fn(texts))`` for one row of the table."""
    from fewtag.embed import get_encoder

    if backend == REFERENCE:
        st = get_encoder(model, max_length, backend="torch").model

        def run(texts: list[str]) -> np.ndarray:
            return st.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )

        return "sentence-transformers encode (reference)", "torch", run
    enc = get_encoder(model, max_length, backend=backend)
    label = f"fewtag {backend}" + (f" (= {enc.backend})" if backend == "auto" else "")
    return label, enc.backend, lambda texts: enc.encode(texts, batch_size=batch_size)


def child_rss(model: str, backend: str, max_length: int, batch_size: int, n: int) -> tuple[float, float]:
    """Peak RSS (MiB) of a fresh process that loads ``backend`` and embeds ``n`` texts, and its
    part above the imports (torch, sentence-transformers, fewtag: the same for every backend)."""
    code = (
        "import sys, re; sys.argv = ['x']; sys.path.insert(0, 'benchmarks');"
        "import torch, sentence_transformers, onnxruntime, encoder_speed as e;"
        "from fewtag.embed import configure_cache; configure_cache(None);"
        f"texts = e.issue_texts({n});"
        "kb = lambda key: int(re.search(key + r':\\s+(\\d+)', open('/proc/self/status').read()).group(1));"
        "base = kb('VmRSS'); open('/proc/self/clear_refs', 'w').write('5');"
        f"_, _, run = e.embedder({model!r}, {backend!r}, {max_length}, {batch_size}); run(texts);"
        "print(kb('VmHWM'), base)"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    peak, base = (int(v) for v in out.stdout.strip().splitlines()[-1].split())
    return peak / 1024, (peak - base) / 1024


def cpu_line() -> str:
    import torch

    from fewtag.embed.backends import BF16_FLAGS, cpu_flags, resolve_backend

    flags = sorted(BF16_FLAGS & cpu_flags()) or ["none"]
    return (
        f"CPU bf16 flags: {', '.join(flags)}; torch oneDNN bf16: {torch.ops.mkldnn._is_mkldnn_bf16_supported()}; "
        f"auto -> {resolve_backend('auto')}"
    )


def speed(a: argparse.Namespace) -> None:
    import torch

    from fewtag.embed import configure_cache, get_encoder

    configure_cache(None)
    texts = issue_texts(a.texts)
    names = [REFERENCE] + a.backends.split(",")
    rows = {b: embedder(a.model, b, a.max_length, a.batch_size) for b in names}
    for _, _, run in rows.values():  # warm-up (and the onnx export) outside the timing
        run([f"warm-up text number {i}" for i in range(16)])
    secs = {b: 0.0 for b in names}
    vecs: dict[str, list[np.ndarray]] = {b: [] for b in names}
    parts = np.array_split(np.arange(len(texts)), a.rounds)
    for r, part in enumerate(parts):
        chunk = [texts[i] for i in part]
        for b in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            vecs[b].append(rows[b][2](chunk))
            secs[b] += time.perf_counter() - start
        print(f"round {r + 1}/{len(parts)} done", file=sys.stderr, flush=True)
    ref = np.concatenate(vecs[REFERENCE])
    tokenizer = get_encoder(a.model, a.max_length, backend="torch").model.tokenizer
    ids = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    n_tokens = [min(len(row) + 2, a.max_length) for row in ids]
    rss = measure_rss(a, names)
    print(
        f"\n{a.model.split('/')[-1]}: {len(texts)} issue texts, {a.max_length} tokens max "
        f"({np.mean(n_tokens):.0f} on average, {np.mean([n == a.max_length for n in n_tokens]):.0%} cut), "
        f"batches of {a.batch_size}, {a.rounds} interleaved rounds, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs shared with other jobs (load average {os.getloadavg()[0]:.1f}).\n{cpu_line()}\n"
    )
    print("| encoder | seconds | texts/s | vs reference | peak RSS, MiB (above imports) | min cosine | mean cosine |")
    print("|---|---|---|---|---|---|---|")
    for b in names:
        name, _, _ = rows[b]
        cos = (np.concatenate(vecs[b]) * ref).sum(axis=1)
        mem = f"{rss[b][0]:.0f} (+{rss[b][1]:.0f})" if b in rss else "—"
        print(
            f"| {name} | {secs[b]:.1f} | {len(texts) / secs[b]:.1f} | {secs[REFERENCE] / secs[b]:.2f}x | {mem} | "
            f"{cos.min():.4f} | {cos.mean():.5f} |"
        )


def measure_rss(a: argparse.Namespace, names: list[str]) -> dict[str, tuple[float, float]]:
    """``{backend: (peak MiB, MiB above the imports)}``, one child process each (``--no-rss``: none)."""
    return {b: child_rss(a.model, b, a.max_length, a.batch_size, 64) for b in names} if a.rss else {}


def rss_table(a: argparse.Namespace) -> None:
    """Only the peak-RSS column (``--no-speed --rss-only``)."""
    names = [REFERENCE] + a.backends.split(",")
    rss = measure_rss(a, names)
    print(f"\n{a.model.split('/')[-1]}, 64 issue texts at {a.max_length} tokens, one fresh process per row\n")
    print("| encoder | peak RSS, MiB | above the imports, MiB |")
    print("|---|---|---|")
    for b in names:
        print(f"| {b} | {rss[b][0]:.0f} | {rss[b][1]:.0f} |")


def downstream(a: argparse.Namespace) -> None:
    """embed-logreg out-of-fold F1 per backend on the validation protocol of long_text.py."""
    from long_text import REPOS, evaluate, per_seed, validation_sets

    from fewtag.embed import configure_cache
    from fewtag.metrics import format_interval, mean_interval

    configure_cache(a.cache)
    parts = validation_sets(a.seeds, list(REPOS))
    results = {}
    backends = a.f1_backends.split(",")
    if "torch" not in backends:
        backends = ["torch"] + backends
    for b in backends:
        print(f"F1: {b}", file=sys.stderr, flush=True)
        results[b] = evaluate(parts, {"model": a.model, "max_length": a.max_length, "backend": b})
    print(
        f"\nembed-logreg, {a.model.split('/')[-1]} at {a.max_length} tokens: 5-fold out-of-fold F1 on the balanced "
        f"300 training issues of each of {len(REPOS)} repositories (mean of repositories), "
        f"{a.seeds} fold partitions, mean ± sd [95% CI]; difference paired with torch (fp32)\n"
    )
    print("| backend | macro F1 | micro F1 | macro − torch | micro − torch |")
    print("|---|---|---|---|---|")
    base_macro, base_micro = per_seed(results["torch"], 0), per_seed(results["torch"], 1)
    for b in backends:
        macro, micro = per_seed(results[b], 0), per_seed(results[b], 1)
        dma = [x - y for x, y in zip(macro, base_macro)]
        dmi = [x - y for x, y in zip(micro, base_micro)]
        diff = "—" if b == "torch" else None
        print(
            f"| {b} | {format_interval(mean_interval(macro))} | {format_interval(mean_interval(micro))} | "
            f"{diff or format_interval(mean_interval(dma))} | {diff or format_interval(mean_interval(dmi))} |"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=ENCODER)
    p.add_argument("--texts", type=int, default=1000, help="texts embedded per backend")
    p.add_argument("--rounds", type=int, default=4, help="interleaved parts")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--backends", default=",".join(BACKENDS))
    p.add_argument("--no-rss", dest="rss", action="store_false", help="skip the child processes for peak RSS")
    p.add_argument("--no-speed", dest="speed", action="store_false")
    p.add_argument("--rss-only", action="store_true", help="with --no-speed: only the peak-RSS table")
    p.add_argument("--f1", action="store_true", help="downstream embed-logreg F1 per backend (validation)")
    p.add_argument("--f1-backends", default="torch,auto,onnx-int8")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--cache", help="a fewtag store for the F1 part's vectors (long_text.py --cache shares it)")
    a = p.parse_args()
    if a.speed:
        speed(a)
    elif a.rss_only:
        rss_table(a)
    if a.f1:
        downstream(a)


if __name__ == "__main__":
    main()
