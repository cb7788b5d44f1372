"""``fewtag audit``: labels that are probably wrong or missing (confident learning, out-of-fold)."""

from __future__ import annotations

from pathlib import Path

import typer

from fewtag.cli._app import app, fail, info, out


@app.command("audit")
def audit_command(
    data: Path = typer.Argument(None, help="A labelled file or a prepared folder (or use --store)."),
    store: Path = typer.Option(None, "--store", help="Audit the labelled items of this store instead."),
    labels: str = typer.Option(None, "--labels", help="With --store: the labels, comma-separated."),
    config: Path = typer.Option(None, "--config", help="With --store: a dataset.toml naming the labels."),
    method: str = typer.Option("tfidf-logreg", "--method", "-m", help="Method whose out-of-fold scores are used."),
    model: str = typer.Option(None, "--model", help="Encoder id or folder, for encoder methods."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter KEY=VALUE (repeatable)."),
    folds: int = typer.Option(5, "--folds", min=2, help="Folds for the out-of-fold scores."),
    seed: int = typer.Option(0, "--seed"),
    out_dir: Path = typer.Option(..., "--out", help="Folder for label_issues.csv, noise_rates.csv, report.md."),
    force: bool = typer.Option(False, "--force", help="Replace --out even if fewtag did not write it."),
) -> None:
    """Find labels that are probably wrong (and, multi-label, probably missing).

    Every labelled row is scored by a model fitted without it (k-fold); cleanlab's
    confident learning flags the rows whose scores disagree with their label beyond
    each label's own confidence. Review them with `fewtag annotate --review OUT/label_issues.csv`.
    """
    from fewtag.audit import audit, write_audit
    from fewtag.io import guard_out
    from fewtag.pipeline import parse_params
    from fewtag.registry import create

    if (data is None) == (store is None):
        fail("give a labelled file or prepared folder, or --store DB (one of them)")
    params = parse_params(param)
    with guard_out(out_dir, "audit", force=force):
        texts, label_lists, ids, repos, multi = _rows(data, store, labels, config)
        from fewtag.labels import binarize

        classes = sorted({lab for ls in label_lists for lab in ls})
        y = binarize(label_lists, classes)
        info(f"auditing {len(texts)} labelled rows, {len(classes)} labels, with {method} out-of-fold scores")
        result = audit(
            lambda: create(method, params, model=model, seed=seed),
            texts,
            y,
            classes,
            multi_label=multi,
            ids=ids,
            method=method,
            n_folds=folds,
            seed=seed,
            log=info,
        )
        write_audit(result, out_dir, texts=texts, repos=repos)
    wrong = sum(it.kind == "wrong" for it in result.issues)
    out.print(f"{wrong} labels probably wrong, {len(result.issues) - wrong} probably missing, of {len(texts)} rows")
    for lab, rate in sorted(result.noise_rate.items(), key=lambda kv: -kv[1])[:10]:
        out.print(f"  {lab}: estimated noise {rate:.1%} of {result.counts[lab]} rows")
    out.print(f"wrote {out_dir}/label_issues.csv, noise_rates.csv, report.md")


def _rows(
    data: Path | None, store: Path | None, labels: str | None, config: Path | None
) -> tuple[list[str], list[list[str]], list[str], list[str] | None, bool]:
    """Texts, label lists, ids, repos (store only) of the rows to audit, and whether it is multi-label."""
    if store is not None:
        from fewtag.active.session import labelled
        from fewtag.active.task import LabelTask
        from fewtag.data.store import Store
        from fewtag.data.text import TextSpec

        if (labels is None) == (config is None):
            fail("with --store, give the labels: --labels a,b,c or --config dataset.toml")
        if not store.exists():
            fail(f"store {store} does not exist")
        task = LabelTask.from_config(config) if config is not None else LabelTask.from_labels(labels or "")
        spec = TextSpec()
        with Store(store) as s:
            items, label_lists = labelled(s, task)
        texts = [spec.text_of({"title": it.title, "body": it.body}) for it in items]
        return texts, label_lists, [it.id for it in items], [it.repo for it in items], task.multi_label
    assert data is not None
    if data.is_dir():
        from fewtag.data.loading import load_data

        ds = load_data(data)
        parts = [ds.train, ds.valid, ds.test]
        return (
            [t for p in parts for t in p.texts],
            [lab for p in parts for lab in p.labels],
            [i for p in parts for i in p.ids],
            None,
            ds.multi_label,
        )
    from fewtag.data.labelled import read_labelled_file

    rows = read_labelled_file(data)
    return rows.texts, rows.labels, rows.ids, None, rows.multi_label
