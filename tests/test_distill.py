"""``fewtag distill``: the student gets closer to the teacher, the folder predicts, bad input writes nothing.

Tiny models built in the test (no downloads): the teacher is a setfit model
trained on the toy problem from one tiny random encoder, whose contrastive
training spreads the cosines (same label near 1, others lower); the student
is another tiny random encoder, whose cosines are all alike. Distillation
must bring the student's pair cosines on texts it never saw closer to the
teacher's -- a measured gap, so the test fails if the training does nothing.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
pytest.importorskip("sentence_transformers")

from tests.utils.tiny_encoders import build_sentence_encoder, toy_data  # noqa: E402

UNLABELLED = [
    "app crash when i start",
    "add an option to save",
    "readme docs are broken",
    "how can i load the model",
    "error on test data",
    "please support a new flag",
    "exception when i save the file",
    "example in the documentation",
]
HELD_OUT = ["crash on load", "typo in docs", "support a new flag option", "save file error", "add readme example"]
FAST = ["--steps", "12", "--batch-size", "8", "--lr", "1e-3", "--max-length", "32"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(teacher model folder, student encoder folder, a plain teacher encoder folder)."""
    from fewtag.registry import create

    root = tmp_path_factory.mktemp("distill")
    teacher_enc = build_sentence_encoder(root / "teacher-enc", seed=1)
    student_enc = build_sentence_encoder(root / "student-enc", seed=0)
    texts, labels, _ = toy_data()
    params = {"max_length": 32, "num_iterations": 3, "body_learning_rate": 1e-3, "label_templates": "never"}
    create("setfit", params, model=str(teacher_enc)).fit(texts, labels).save(root / "teacher")
    return root / "teacher", student_enc, teacher_enc


@pytest.fixture
def labelled_file(tmp_path):
    texts, labels, _ = toy_data()
    path = tmp_path / "issues.jsonl"
    rows = [{"text": t, "label": lab} for t, lab in zip(texts, labels)] + [{"text": t} for t in UNLABELLED]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def prepared(tmp_path):
    """A hand-written prepared folder: train, valid, unsup."""
    texts, labels, classes = toy_data()
    folder = tmp_path / "prep"
    folder.mkdir()

    def write(name, rows):
        with open(folder / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for i, (t, labs) in enumerate(rows):
                fh.write(json.dumps({"id": f"{name}{i}", "text": t, "labels": labs}) + "\n")

    train = [(t, [lab]) for i, (t, lab) in enumerate(zip(texts, labels)) if i % 6 < 4]
    valid = [(t, [lab]) for i, (t, lab) in enumerate(zip(texts, labels)) if i % 6 >= 4]
    write("train", train)
    write("valid", valid)
    write("test", [])
    write("unsup", [(t, []) for t in UNLABELLED])
    (folder / "labels.json").write_text(json.dumps({"labels": classes, "multi_label": False, "counts": {}}))
    (folder / "slices.json").write_text(
        json.dumps({"seed": 0, "sizes": [], "slices": {"all": list(range(len(train)))}})
    )
    return folder


def run_cli(monkeypatch, capsys, *args):
    """The real entry point in-process: (exit code, stdout, stderr)."""
    import fewtag.cli
    from fewtag.cli._app import state

    monkeypatch.setattr(sys, "argv", ["fewtag", "-q", *args])
    monkeypatch.setattr(state, "quiet", False)
    code = 0
    try:
        fewtag.cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def gap_to_teacher(teacher_dir, student_vectors):
    from fewtag.distill import cosine_gap
    from fewtag.registry import load_tagger

    teacher = load_tagger(teacher_dir)
    return cosine_gap(student_vectors, teacher._body_encoder.encode(HELD_OUT))


def test_student_cosines_get_closer_to_the_teachers(models, labelled_file, tmp_path):
    from fewtag.distill import distill, read_distill_data
    from fewtag.embed import get_encoder
    from fewtag.progress import reporting
    from fewtag.registry import load_tagger

    teacher, student, _ = models
    before = gap_to_teacher(teacher, get_encoder(str(student), 32).encode(HELD_OUT))
    data = read_distill_data(labelled_file)
    assert (len(data.train), len(data.unlabelled)) == (18, len(UNLABELLED))
    out = tmp_path / "student"
    seen: list[tuple[str, int, int]] = []
    with reporting(lambda task, done, total, fields: seen.append((task, done, total))):
        _, result = distill(
            str(teacher), data, out, student=str(student), steps=12, batch_size=8, learning_rate=1e-3, max_length=32
        )
    assert [s for s in seen if s[0] == "student learns"] == [("student learns", i, 12) for i in range(1, 13)]
    assert ("teacher embeds", 26, 26) in seen
    model = load_tagger(out)
    after = gap_to_teacher(teacher, model._body_encoder.encode(HELD_OUT))
    assert after < 0.5 * before, (before, after)  # on texts outside the training pool
    assert result.cosine_gap["after"] < result.cosine_gap["before"]
    assert result.head == "teacher" and result.texts["head"] == 18 + len(UNLABELLED)
    meta = json.loads((out / "fewtag.json").read_text())
    assert meta["method"] == "setfit"
    assert meta["distill"]["teacher"]["method"] == "setfit" and meta["distill"]["student"] == str(student)
    assert meta["distill"]["steps"] == 12 and meta["distill"]["seconds"]["total"] > 0
    predicted = model.predict(HELD_OUT)
    assert len(predicted) == len(HELD_OUT) and all(
        len(p) == 1 and p[0] in ("bug", "docs", "feature") for p in predicted
    )


def test_cli_on_a_prepared_folder_then_predict(models, prepared, tmp_path, monkeypatch, capsys):
    teacher, student, _ = models
    out = tmp_path / "m"
    code, stdout, err = run_cli(
        monkeypatch, capsys, "distill", str(teacher), str(prepared), "--student", str(student), "--out", str(out), *FAST
    )
    assert code == 0, err
    assert "cosine gap to the teacher" in stdout and "validation texts" in stdout
    code, stdout, err = run_cli(monkeypatch, capsys, "predict", str(out), str(prepared / "valid.jsonl"))
    assert code == 0, err
    rows = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert len(rows) == 6 and all(set(r["labels"]) <= {"bug", "docs", "feature"} for r in rows)


def test_a_plain_encoder_teacher_fits_the_head_on_labelled_texts(models, labelled_file, tmp_path):
    from fewtag.distill import distill, read_distill_data

    _, student, teacher_enc = models
    _, result = distill(
        str(teacher_enc), read_distill_data(labelled_file), tmp_path / "m", student=str(student), steps=3,
        batch_size=4, max_length=32,
    )  # fmt: skip
    assert result.head == "labelled" and result.texts["head"] == 18


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing-teacher", "does not exist"),
        ("no-texts", "no labelled"),
        ("missing-data", "does not exist"),
        ("tfidf-teacher", "no sentence encoder"),
        ("bad-steps", "steps must be"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_nothing_written(
    case, message, models, labelled_file, tmp_path, monkeypatch, capsys
):
    teacher, student, _ = models
    data = labelled_file
    extra: list[str] = []
    if case == "missing-teacher":
        teacher = tmp_path / "no-such-model"
    elif case == "no-texts":
        data = tmp_path / "empty.jsonl"
        data.write_text(json.dumps({"text": "only unlabelled"}) + "\n")
    elif case == "missing-data":
        data = tmp_path / "nope.jsonl"
    elif case == "tfidf-teacher":
        from fewtag.registry import create

        texts, labels, _ = toy_data()
        teacher = create("tfidf-logreg").fit(texts, labels).save(tmp_path / "tfidf")
    else:
        extra = ["--steps", "-1"]
    out = tmp_path / "out"
    code, _, err = run_cli(
        monkeypatch, capsys, "distill", str(teacher), str(data), "--student", str(student), "--out", str(out), *extra
    )
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], err
    assert not out.exists()


def test_time_budget_stops_early(models, labelled_file, tmp_path):
    from fewtag.distill import distill, read_distill_data

    teacher, student, _ = models
    _, result = distill(
        str(teacher), read_distill_data(labelled_file), tmp_path / "m", student=str(student), steps=10_000,
        batch_size=4, max_length=32, time_budget=0.5,
    )  # fmt: skip
    assert result.stopped_early and 1 <= result.steps < 10_000
    assert result.seconds["student"] < 30
    assert (tmp_path / "m" / "fewtag.json").is_file()
