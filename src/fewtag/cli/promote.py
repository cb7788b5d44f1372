"""``fewtag promote CANDIDATE --current MODEL --data DIR|FILE``: staged retraining."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fewtag.cli._app import app, out


@app.command("promote")
def promote_command(
    candidate: Path = typer.Argument(..., help="The newly trained model folder."),
    current: Path = typer.Option(..., "--current", help="The deployed model folder (replaced when promoted)."),
    data: Path = typer.Option(..., "--data", help="Held-out issues: a labelled file or a prepared folder (its test)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Compare and report; replace nothing."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    boot: int = typer.Option(2000, "--bootstrap", min=100, help="Bootstrap resamples."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Promote CANDIDATE over the current model unless it is worse beyond noise (a paired bootstrap
    95% interval of the micro-F1 difference wholly below 0). The previous model is kept as
    CURRENT.previous for rollback. Exit 0 when promoted (or it would be), 3 when refused."""
    from fewtag.deploy.promote import compare_models, promote_folder, read_heldout
    from fewtag.registry import load_tagger

    cur, cand = load_tagger(current), load_tagger(candidate)
    records, truth = read_heldout(data)
    cmp = compare_models(cur, cand, records, truth, n_boot=boot, seed=seed)
    if as_json:
        out.print_json(json.dumps(cmp.to_dict()))
    else:
        out.print(f"held-out issues: {cmp.n} ({data})", highlight=False)
        out.print(
            f"micro F1: current {cmp.current_f1:.3f}, candidate {cmp.candidate_f1:.3f}; candidate - current "
            f"{cmp.candidate_f1 - cmp.current_f1:+.3f} "
            f"[95% paired bootstrap {cmp.diff_low:+.3f}, {cmp.diff_high:+.3f}]",
            highlight=False,
        )
        out.print(f"{'threshold':>9}  {'model':<9} {'match':>6} {'mismatch':>9} {'no prediction':>14}", highlight=False)
        for rc, rn in zip(cmp.current_rows, cmp.candidate_rows):
            for name, r in (("current", rc), ("candidate", rn)):
                out.print(
                    f"{r.threshold:>9.2f}  {name:<9} {r.match:>6.1%} {r.mismatch:>9.1%} {r.none:>14.1%}",
                    highlight=False,
                )
    if not cmp.promote:
        out.print(f"refused: the candidate is worse beyond noise; {current} stays", highlight=False)
        raise typer.Exit(3)
    if dry_run:
        out.print(f"would promote {candidate} to {current} (dry run)", highlight=False)
        return
    previous = promote_folder(candidate, current)
    out.print(
        f"promoted {candidate} to {current}; the previous model is kept in {previous} for rollback", highlight=False
    )
