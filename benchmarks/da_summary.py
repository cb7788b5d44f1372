"""Validation macro/micro F1 per method and slice (mean ± sd [95% CI] over seeds) and the paired DA − no-DA gap."""
import csv, sys
from collections import defaultdict
from fewtag.metrics import format_interval, mean_interval

rows = list(csv.DictReader(open(sys.argv[1])))
base = sys.argv[2] if len(sys.argv) > 2 else "embed-logreg (no DA)"
by = defaultdict(dict)
for r in rows:
    if r["status"] == "ok":
        by[(r["method"], r["slice"])][int(r["seed"])] = r
methods = list(dict.fromkeys(r["method"] for r in rows))
slices = list(dict.fromkeys(r["slice"] for r in rows))
for metric in ("val_macro_f1", "val_micro_f1"):
    print(f"\n{metric} (validation, {len(by[(methods[0], slices[0])])} seeds)\n")
    print("| slice | " + " | ".join(methods) + " |")
    print("|---" * (len(methods) + 1) + "|")
    for sl in slices:
        cells = []
        for m in methods:
            runs = by[(m, sl)]
            cell = format_interval(mean_interval([float(runs[s][metric]) for s in sorted(runs)]))
            if m != base:
                diff = [float(runs[s][metric]) - float(by[(base, sl)][s][metric]) for s in sorted(runs)]
                st = mean_interval(diff)
                cell += f"; Δ {st['mean']:+.3f}" + (f" [{st['lo']:+.3f}, {st['hi']:+.3f}]" if st["lo"] is not None and st["sd"] > 0 else "")
            cells.append(cell)
        print(f"| {sl} (n={by[(methods[0], sl)][0]['slice_size']}) | " + " | ".join(cells) + " |")
