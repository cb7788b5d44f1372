"""An onnx encoder whose export is cached loads without torch, with the same token ids and vectors."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from fewtag.embed import clear_encoders, get_encoder
from fewtag.embed.fast_tokenizer import FastTokenizer, load_fast_tokenizer

TEXTS = [
    "the app crashes on start",
    "please add a new option to the cli and the service and the docs and the tests",
    "",
    "   how can i load a file?   ",
    "Ünïcödé and emoji 🚀 in a title",
]

pytestmark = pytest.mark.usefixtures("fresh_encoders")


def test_token_ids_match_transformers(tiny_encoder):
    from transformers import AutoTokenizer

    ref, fast = AutoTokenizer.from_pretrained(tiny_encoder), load_fast_tokenizer(tiny_encoder)
    assert fast is not None and fast.pad_token_id == ref.pad_token_id
    for kw in (
        {"padding": True, "truncation": True, "max_length": 6, "return_tensors": "np"},
        {"add_special_tokens": False, "truncation": True, "max_length": 4, "return_attention_mask": False},
        {"add_special_tokens": False},
    ):
        a, b = ref(TEXTS, **kw), fast(TEXTS, **kw)
        for key in ("input_ids", "attention_mask"):
            assert (key in a) == (key in b)
            if key in a:
                assert [list(x) for x in a[key]] == [list(x) for x in b[key]], (kw, key)
    assert ref("a")["input_ids"] == fast("a")["input_ids"]


def test_a_cached_export_is_used_with_the_same_vectors(tiny_encoder):
    first = get_encoder(tiny_encoder, max_length=16, backend="onnx-int8")
    exported = first.encode(TEXTS)
    assert not isinstance(first.model.tokenizer, FastTokenizer)  # nothing cached yet: loaded through torch
    clear_encoders()
    again = get_encoder(tiny_encoder, max_length=16, backend="onnx-int8")
    assert isinstance(again.model.tokenizer, FastTokenizer)
    np.testing.assert_array_equal(again.encode(TEXTS), exported)


def test_a_cached_export_never_imports_torch(tiny_encoder, tmp_path):
    get_encoder(tiny_encoder, max_length=16, backend="onnx").encode(TEXTS)  # export into the test's cache
    code = (
        "import sys\n"
        "from fewtag.embed import get_encoder\n"
        f"v = get_encoder({tiny_encoder!r}, max_length=16, backend='onnx').encode(['a crash', 'a docs typo'])\n"
        "print(v.shape, 'torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ}, timeout=120, check=True
    )
    assert out.stdout.split()[-1] == "False", out.stdout + out.stderr


def test_a_folder_without_tokenizer_json_falls_back(tmp_path):
    assert load_fast_tokenizer(tmp_path) is None
