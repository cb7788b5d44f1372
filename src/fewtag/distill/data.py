"""The texts a distillation runs on: labelled ones (for the head) and unlabelled ones.

DATA is a prepared folder (its training slice, ``valid`` for tuning, ``unsup``
as unlabelled texts, ``test`` scored once) or a labelled JSONL/CSV file (every
labelled row; rows without a kept label count as unlabelled), plus an optional
file of unlabelled texts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fewtag.data.dataset import Split
from fewtag.data.text import TextSpec
from fewtag.errors import InputError

__all__ = ["DistillData", "read_distill_data"]


@dataclass
class DistillData:
    """Labelled and unlabelled texts for :func:`fewtag.distill.distill`.

    Attributes
    ----------
    train : Split
        Labelled texts the head is fitted on.
    classes : list of str
    multi_label : bool
    unlabelled : list of str
    valid, test : Split
        Tuning texts (may be empty) and texts scored once (may be empty).
    text : TextSpec
        How records became these texts; saved with the student.
    source : str
    """

    train: Split
    classes: list[str]
    multi_label: bool
    unlabelled: list[str] = field(default_factory=list)
    valid: Split = field(default_factory=Split)
    test: Split = field(default_factory=Split)
    text: TextSpec = field(default_factory=TextSpec)
    source: str = ""

    def pool(self) -> list[str]:
        """Distinct texts the student learns to embed like the teacher (labelled first)."""
        return list(dict.fromkeys(t for t in [*self.train.texts, *self.unlabelled] if t.strip()))


def read_distill_data(
    data: str | Path,
    *,
    unlabelled: str | Path | None = None,
    slice_name: str = "all",
    text: TextSpec | None = None,
) -> DistillData:
    """Read DATA (and the optional unlabelled file).

    Parameters
    ----------
    data : a prepared folder or a labelled file
    unlabelled : a file of more texts (labels ignored), or a prepared folder (its ``unsup``)
    slice_name : training slice of a prepared folder
    text : how a labelled file's records become texts (default: ``TextSpec()``)

    Raises
    ------
    InputError
        DATA is missing, has no labelled texts, or the slice is unknown.
    """
    path = Path(data)
    if not path.exists():
        raise InputError(f"{path} does not exist; give a prepared folder (fewtag prepare) or a labelled file")
    if path.is_dir():
        from fewtag.data.dataset import load_prepared
        from fewtag.pipeline import text_spec_of

        ds = load_prepared(path)
        if slice_name not in ds.slices:
            raise InputError(f"slice {slice_name!r} is not in {path}; slices: {', '.join(ds.slices)}")
        out = DistillData(
            train=ds.train.subset(ds.slices[slice_name]),
            classes=ds.labels,
            multi_label=ds.multi_label,
            unlabelled=list(ds.unsup.texts),
            valid=ds.valid,
            test=ds.test,
            text=text_spec_of(ds),
            source=str(path),
        )
    else:
        from fewtag.data.labelled import read_labelled_file

        spec = text or TextSpec()
        rows = read_labelled_file(path, text=spec)
        out = DistillData(
            train=Split(rows.texts, rows.labels, rows.ids),
            classes=rows.classes,
            multi_label=rows.multi_label,
            unlabelled=list(rows.unlabelled),
            text=spec,
            source=str(path),
        )
    if unlabelled is not None:
        from fewtag.adapt.texts import read_texts

        if not Path(unlabelled).exists():
            raise InputError(f"--unlabelled {unlabelled} does not exist")
        out.unlabelled += read_texts(unlabelled, text=out.text)  # the model's own text path
    if not any(t.strip() for t in out.train.texts):
        raise InputError(f"{path}: no labelled texts to fit the student's head on")
    return out
