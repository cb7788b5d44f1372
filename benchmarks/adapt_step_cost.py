"""Seconds per optimiser step of fewtag.adapt on MiniLM: wall and process-CPU time, held-out loss off.

usage: adapt_step_cost.py OBJECTIVES LENGTHS BATCHES THREADS [STEPS] [DATA]

    python benchmarks/adapt_step_cost.py simcse,mlm,tsdae 64,128 8,16 1 5 w/hf
"""
import sys, time, json, statistics, tempfile, os
import torch
objs, lens, batches = (sys.argv[i].split(",") for i in (1, 2, 3))
torch.set_num_threads(int(sys.argv[4]))
n = int(sys.argv[5]) if len(sys.argv) > 5 else 5
from fewtag.adapt import adapt, read_texts
from fewtag.progress import reporting

texts = read_texts(sys.argv[6] if len(sys.argv) > 6 else "w/hf")
for obj in objs:
    for L in map(int, lens):
        for B in map(int, batches):
            stamps = []
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as d, reporting(
                lambda task, done, total, f: stamps.append((time.perf_counter(), time.process_time()))
            ):
                adapt(texts, "sentence-transformers/all-MiniLM-L6-v2", d + "/o", steps=n, objective=obj,
                      batch_size=B, max_length=L, held_out=0.0)
            wall = [b[0] - a[0] for a, b in zip(stamps, stamps[1:])]
            cpu = [b[1] - a[1] for a, b in zip(stamps, stamps[1:])]
            row = dict(objective=obj, max_length=L, batch_size=B, threads=torch.get_num_threads(),
                       wall_s_per_step=round(statistics.median(wall), 2), cpu_s_per_step=round(statistics.median(cpu), 2),
                       load_avg=round(os.getloadavg()[0], 1), total_s=round(time.perf_counter() - t0, 1))
            print(json.dumps(row), flush=True)
