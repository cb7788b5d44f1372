"""benchmarks/combine_runs.py: merged tables with intervals and the pick by validation."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

from fewtag.eval.result import RESULT_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
HEADER = ",".join(RESULT_COLUMNS)


def _run(folder: Path, lines: list[str], header: str = HEADER) -> Path:
    folder.mkdir()
    (folder / "results.csv").write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    (folder / "config.json").write_text(json.dumps({"kind": "fewtag-bench", "command": f"fewtag bench {folder.name}"}))
    return folder


def test_combine_runs_prints_intervals_and_picks_on_validation(tmp_path, monkeypatch, capsys):
    # A: better on validation, worse on test; B: the other way round
    a = _run(
        tmp_path / "a", [f"A,all,60,{s},0.9,0.8,{t},0.5,0.6,1,1,100,ok" for s, t in ((0, 0.70), (1, 0.72), (2, 0.74))]
    )
    b = _run(
        tmp_path / "b",
        [f"B,all,60,{s},0.5,0.5,0.9,0.9,0.9,1,1,100,ok" for s in (0, 1, 2)]
        + ["B,8,8,0,0.4,0.4,0.6,0.6,0.6,1,1,100,ok"],
    )
    old = _run(
        tmp_path / "old",
        ["C,all,60,0,0.99,0.99,0.99,1,1,100,ok"],
        header="method,slice,slice_size,seed,micro_f1,macro_f1,accuracy,train_s,predict_s,peak_mb,status",
    )
    monkeypatch.setattr(sys, "argv", ["combine_runs.py", str(a), str(b), str(old), "--out", str(tmp_path / "fig.png")])
    runpy.run_path(str(ROOT / "benchmarks" / "combine_runs.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "| A | " in out and "0.720 ± 0.020 [0.670, 0.770]" in out  # t-interval over 3 seeds
    assert "0.600 (n=1)" in out and "0.990 (n=1)" in out
    assert "| all | A | 0.900 ± 0.000 [0.900, 0.900] | 0.720 ± 0.020 [0.670, 0.770] |" in out
    assert "| 8 | B |" in out  # the old run (no val columns) is never picked
    assert "fewtag bench a" in out and "fewtag bench old" in out
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"
