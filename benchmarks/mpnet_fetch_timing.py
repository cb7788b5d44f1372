"""Time a real fetch of all-mpnet-base-v2 into a fresh cache, by stage."""
import os
import time

from fewtag.hub import fetch

stages = {}
def progress(stage, done, total):
    now = time.perf_counter()
    first, _, n = stages.get(stage, (now, now, 0))
    stages[stage] = (first, now, n + 1)
t = time.perf_counter()
r = fetch("all-mpnet-base-v2", progress=progress)
total = time.perf_counter() - t
print(f"fetched={r.fetched} in {total:.1f} s -> {r.path}; removed {r.removed}")
for s, (a, b, n) in stages.items():
    print(f"  {s}: first..last report {b - a:.1f} s, {n} reports")
print(f"load average {os.getloadavg()[0]:.1f}")
