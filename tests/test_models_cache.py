"""resolve_model reads the Hugging Face cache, and only imports huggingface_hub when the cache has the model."""

from __future__ import annotations

import subprocess
import sys

from fewtag.models import resolve_model


def _fake_hub_cache(root, repo_id: str):
    folder = root / ("models--" + repo_id.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    snap = folder / "snapshots" / commit
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)
    return snap


def test_a_model_in_the_hub_cache_is_found(tmp_path, monkeypatch):
    import huggingface_hub  # noqa: F401  imported before the cache moves, as by the rest of the suite

    snap = _fake_hub_cache(tmp_path, "someone/tiny-model")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert resolve_model("someone/tiny-model") == snap


def test_the_default_encoder_resolves_without_importing_huggingface_hub(tmp_path):
    code = (
        "import sys\n"
        "from fewtag.models import resolve_model\n"
        "resolve_model('sentence-transformers/all-MiniLM-L6-v2')\n"
        "print('huggingface_hub' in sys.modules)\n"
    )
    env = {"HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
