"""Search benchmark: exact (IndexFlatIP) vs IVF over 100k normalised vectors of dim 384.

Prints p50/p99 single-query latency for k=10 and IVF recall@10 against exact
search, for the nprobe fewtag's tuner picks and a few others.

    .venv/bin/python benchmarks/search_bench.py [--n 100000] [--queries 1000] [--threads 1]

Vectors are "random-ish": a mixture of 2,000 Gaussian clusters on the sphere
(real sentence embeddings are clustered, unlike uniform noise, on which IVF
recall collapses), queries are perturbed indexed vectors.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def clustered(n: int, dim: int, clusters: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + spread * rng.normal(size=(n, dim)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def latencies(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None, :], k)
        times.append(time.perf_counter() - t)
        found.append(ids[0])
    return np.array(times) * 1000, np.array(found)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--spread", type=float, default=1.0, help="noise around the cluster centres")
    p.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads (1 = one per request)")
    a = p.parse_args()

    import faiss

    from fewtag.search.index import build_faiss, recall_at_k

    faiss.omp_set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    x = clustered(a.n, a.dim, 2000, a.spread, rng)
    rng = np.random.default_rng(1)  # benchmark queries differ from the tuner's
    q = x[rng.choice(a.n, a.queries, replace=False)]
    q = q + rng.normal(size=q.shape) / np.sqrt(a.dim)  # noise of norm ~1: cosine ~0.7 to the source
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)

    t = time.perf_counter()
    flat, _ = build_faiss(x, "off")
    flat_build = time.perf_counter() - t
    t = time.perf_counter()
    ivf, info = build_faiss(x, "on")
    ivf_build = time.perf_counter() - t

    flat_ms, truth = latencies(flat, q, a.k)
    rows = [("exact (IndexFlatIP)", "-", flat_build, flat_ms, 1.0)]
    tuned = info["nprobe"]
    for nprobe in sorted({max(1, tuned // 2), tuned, tuned * 2}):
        ivf.nprobe = nprobe
        ms, found = latencies(ivf, q, a.k)
        label = f"IVF nlist={info['nlist']}" + (" (tuned)" if nprobe == tuned else "")
        rows.append((label, str(nprobe), ivf_build, ms, recall_at_k(found, truth)))

    print(
        f"\n{a.n:,} vectors, dim {a.dim}, {a.queries} queries, k={a.k}, FAISS threads {a.threads}; "
        f"nprobe tuned (other queries, seed 0): {tuned} (recall@10 {info['recall_at_10']})\n"
    )
    print(f"| index | nprobe | build s | p50 ms | p95 ms | p99 ms | recall@{a.k} vs exact |")
    print("|---|---|---|---|---|---|---|")
    for name, nprobe, build, ms, rec in rows:
        print(
            f"| {name} | {nprobe} | {build:.1f} | {np.percentile(ms, 50):.2f} | "
            f"{np.percentile(ms, 95):.2f} | {np.percentile(ms, 99):.2f} | {rec:.3f} |"
        )
    print("\ntargets: IVF p99 < 20 ms, recall@10 >= 0.95")


if __name__ == "__main__":
    main()
