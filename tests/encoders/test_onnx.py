"""Encoder backends: ONNX Runtime (fp32, int8) and bf16 against the torch reference."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fewtag.embed import clear_encoders, get_encoder
from fewtag.embed.backends import resolve_backend
from fewtag.errors import InputError, ModelFileError

TEXTS = [
    "the app crashes on start",
    "please add a new option",
    "how can i load a file?",
    "typo in the readme",
    "segfault when i save the model with a very long name and data",
]


pytestmark = pytest.mark.usefixtures("fresh_encoders")


def _cosines(a, b):
    return (a * b).sum(axis=1)


def test_onnx_fp32_matches_torch(tiny_encoder):
    reference = get_encoder(tiny_encoder, max_length=32, backend="torch").encode(TEXTS, batch_size=2)
    enc = get_encoder(tiny_encoder, max_length=32, backend="onnx")
    out = enc.encode(TEXTS, batch_size=2)
    assert enc.backend == "onnx" and out.shape == reference.shape
    np.testing.assert_allclose(out, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_int8_and_bf16_stay_close_to_fp32(tiny_encoder):
    reference = get_encoder(tiny_encoder, max_length=32, backend="torch").encode(TEXTS)
    for backend, floor in (("onnx-int8", 0.95), ("torch-bf16", 0.99)):
        out = get_encoder(tiny_encoder, max_length=32, backend=backend).encode(TEXTS)
        assert _cosines(out, reference).min() > floor, backend
        assert not np.array_equal(out, reference), f"{backend} ran the fp32 model"


def test_export_runs_once_and_truncation_is_kept(tiny_encoder, tmp_path):
    enc = get_encoder(tiny_encoder, max_length=8, backend="onnx-int8")
    files = sorted((tmp_path / "cache" / "onnx").rglob("*.onnx"))
    assert [f.name for f in files] == ["model-int8-v2.onnx", "model.onnx"]
    stamps = [f.stat().st_mtime_ns for f in files]
    short = enc.encode(["crash on start " * 3])
    clear_encoders()
    again = get_encoder(tiny_encoder, max_length=8, backend="onnx-int8")
    assert [f.stat().st_mtime_ns for f in files] == stamps  # loaded, not exported again
    longer = get_encoder(tiny_encoder, max_length=32, backend="onnx-int8").encode(["crash on start " * 3])
    np.testing.assert_allclose(again.encode(["crash on start " * 3]), short, atol=1e-6)
    assert _cosines(short, longer)[0] < 0.99999  # max_length is applied by the tokenizer


def test_backends_are_cached_apart(tiny_encoder, tmp_path):
    from fewtag.embed import configure_cache

    configure_cache(tmp_path / "emb.db")
    texts = ["a new crash", "a new docs typo"]  # in no other test: not in the in-process cache
    fp32 = get_encoder(tiny_encoder, max_length=32, backend="torch").encode(texts)
    int8 = get_encoder(tiny_encoder, max_length=32, backend="onnx-int8")
    assert not np.array_equal(int8.encode(texts), fp32)
    assert int8.calls == 1


def test_unknown_backend_and_unexportable_models_fail_clearly(tiny_encoder, tmp_path):
    with pytest.raises(InputError, match="torch-bf16"):
        get_encoder(tiny_encoder, backend="openvino")
    folder = tmp_path / "cls-dense"
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense

    model = SentenceTransformer(tiny_encoder, device="cpu")
    model.append(Dense(32, 8))
    model.save(str(folder))
    with pytest.raises(ModelFileError, match="Dense.*--encoder-backend torch"):
        get_encoder(str(folder), backend="onnx")


def test_saved_model_switches_backend_at_load(tiny_encoder, tmp_path):
    from fewtag.registry import create, load_tagger
    from tests.utils.tiny_encoders import toy_data

    texts, labels, _ = toy_data()
    tagger = create("embed-logreg", {"max_length": 32}, model=tiny_encoder).fit(texts, labels)
    tagger.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "fewtag.json").read_text())
    assert meta["params"]["backend"] == "auto"  # the default, resolved on the machine that runs it
    assert meta["encoder"]["backend"] == resolve_backend("auto")
    fp32 = load_tagger(tmp_path / "m", encoder_backend="torch").predict_proba(texts)
    onnx = load_tagger(tmp_path / "m", encoder_backend="onnx").predict_proba(texts)
    np.testing.assert_allclose(onnx, fp32, atol=1e-4)

    create("naive-bayes").fit(texts, labels).save(tmp_path / "nb")
    with pytest.raises(InputError, match="no encoder backend"):
        load_tagger(tmp_path / "nb", encoder_backend="onnx")
    with pytest.raises(InputError, match="unknown encoder backend"):
        load_tagger(tmp_path / "m", encoder_backend="fast")


def test_predict_and_serve_take_the_backend_option(tiny_encoder, tmp_path):
    from typer.testing import CliRunner

    import fewtag.cli  # noqa: F401  registers every command
    from fewtag.cli import app
    from fewtag.registry import create
    from fewtag.service.app import load_service_model
    from tests.utils.tiny_encoders import toy_data

    texts, labels, _ = toy_data()
    create("knn", {"max_length": 32}, model=tiny_encoder).fit(texts, labels).save(tmp_path / "m")
    runner = CliRunner()
    lines = "\n".join(texts[:4]) + "\n"
    outputs = {}
    for backend in ("torch", "onnx"):
        result = runner.invoke(app, ["predict", str(tmp_path / "m"), "-", "--encoder-backend", backend], input=lines)
        assert result.exit_code == 0, result.output
        outputs[backend] = [json.loads(line)["labels"] for line in result.output.splitlines()]
    assert outputs["onnx"] == outputs["torch"] and len(outputs["onnx"]) == 4
    assert load_service_model(str(tmp_path / "m"), "onnx-int8").backend == "onnx-int8"
    with pytest.raises(InputError, match="unknown encoder backend"):
        load_service_model(str(tmp_path / "m"), "gpu")
