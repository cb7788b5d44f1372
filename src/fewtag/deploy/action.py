"""The steps of the fewtag GitHub Action (``action.yml``), runnable anywhere: ``python -m fewtag.deploy.action``.

``resolve``
    Reads the config's ``model`` (or the ``model`` input) and writes step outputs to
    ``$GITHUB_OUTPUT``: ``kind`` (path, url, cache), ``path`` (the folder the model will be in),
    ``key`` (the cache key) and ``cache_path`` (what the cache holds: the model folder's parent,
    ``.fewtag``, where the retrain workflow also keeps its store). A release asset URL is downloaded and unpacked here
    (``.tar.gz``, ``.tgz`` or ``.zip``; members may not leave the folder). A ``cache:KEY``
    model is restored by the ``actions/cache/restore`` step that follows in ``action.yml``.
``triage``
    Reads the event (``$GITHUB_EVENT_PATH``, ``$GITHUB_EVENT_NAME``): for an ``issues``
    event it runs ``fewtag triage OWNER/REPO#N --config ... --model ...`` for the event's issue
    (pull requests and other events are left alone, with a line saying so).

Inputs come as environment variables: ``FEWTAG_CONFIG``, ``FEWTAG_MODEL``, ``FEWTAG_MODEL_DIR``
(where a downloaded or cached model goes, default ``.fewtag/model``), ``FEWTAG_DRY_RUN``,
``FEWTAG_STORE``; ``GITHUB_TOKEN`` and ``GITHUB_API_URL`` as for ``fewtag fetch``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

from fewtag.deploy.config import DEFAULT_CONFIG_PATH, load_config, model_source
from fewtag.errors import InputError, TaggerError

__all__ = ["resolve", "event_issue", "triage_event", "download_model", "main"]

DEFAULT_MODEL_DIR = ".fewtag/model"


def _output(values: dict[str, str]) -> None:
    """Step outputs: appended to ``$GITHUB_OUTPUT`` (printed when it is not set)."""
    target = os.environ.get("GITHUB_OUTPUT")
    lines = "".join(f"{k}={v}\n" for k, v in values.items())
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(lines)
    else:
        sys.stdout.write(lines)


def _safe_extract(data: bytes, name: str, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()

    def inside(member: str) -> Path:
        target = (root / member).resolve()
        if target != root and root not in target.parents:
            raise InputError(f"{name}: the archive member {member!r} would be written outside {dest}")
        return target

    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                inside(info.filename)
            zf.extractall(root)
        return
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
        for member in tf.getmembers():
            inside(member.name)
            if member.issym() or member.islnk():
                raise InputError(f"{name}: the archive holds a link ({member.name}); a model folder has none")
        tf.extractall(root, filter="data")


def _model_root(dest: Path) -> Path:
    """The folder with ``fewtag.json``: ``dest`` itself or its one subfolder (an archive of a folder)."""
    if (dest / "fewtag.json").is_file():
        return dest
    subs = [p for p in dest.iterdir() if p.is_dir() and (p / "fewtag.json").is_file()]
    if len(subs) == 1:
        return subs[0]
    raise InputError(f"no fewtag model (fewtag.json) in {dest} after unpacking")


def download_model(url: str, dest: str | Path, *, token: str | None = None, timeout: float = 120.0) -> Path:
    """Download a release asset (an archive of a model folder) and unpack it into ``dest``.

    The token is sent only to the host of ``$GITHUB_API_URL``/``$GITHUB_SERVER_URL`` (a private
    repository's asset), never to another host.
    """
    from urllib.parse import urlsplit

    import httpx

    if not url.endswith((".tar.gz", ".tgz", ".zip")):
        raise InputError(f"model: a release asset must be a .tar.gz, .tgz or .zip archive; got {url}")
    hosts = {urlsplit(os.environ.get(v, "")).netloc for v in ("GITHUB_API_URL", "GITHUB_SERVER_URL")} - {""}
    headers = {"Accept": "application/octet-stream"}
    if token and urlsplit(url).netloc in hosts:
        headers["Authorization"] = f"Bearer {token}"
    try:
        resp = httpx.get(url, headers=headers, follow_redirects=True, timeout=timeout)
    except httpx.HTTPError as exc:
        raise InputError(f"model: could not download {url}: {type(exc).__name__}") from None
    if resp.status_code != 200:
        raise InputError(f"model: downloading {url} answered {resp.status_code}")
    name = urlsplit(url).path
    _safe_extract(resp.content, name, Path(dest))
    return _model_root(Path(dest))


def resolve(config_path: str, model: str | None, model_dir: str = DEFAULT_MODEL_DIR) -> dict[str, str]:
    """Where the model comes from; downloads a release asset. Returns the step outputs."""
    spec = model or load_config(config_path).model
    src = model_source(spec)
    if src.kind == "path":
        return {"kind": "path", "path": src.value, "key": "", "cache_path": ""}
    if src.kind == "cache":
        # the cache holds the model folder's parent (.fewtag: the model and the retrain workflow's store)
        parent = str(Path(model_dir).parent)
        return {
            "kind": "cache",
            "path": model_dir,
            "key": src.value,
            "cache_path": model_dir if parent == "." else parent,
        }
    root = download_model(src.value, model_dir, token=os.environ.get("GITHUB_TOKEN") or None)
    return {"kind": "url", "path": str(root), "key": "", "cache_path": ""}


def event_issue(event_name: str, payload: dict[str, Any]) -> tuple[str, int] | str:
    """``(repo, number)`` of the event's issue, or why there is none."""
    if event_name not in ("issues", "workflow_dispatch"):
        return f"the {event_name!r} event is not about an issue"
    if event_name == "workflow_dispatch":
        inputs = payload.get("inputs") or {}
        number = inputs.get("issue")
    else:
        issue = payload.get("issue") or {}
        if issue.get("pull_request"):
            return "the issue is a pull request"
        number = issue.get("number")
    repo = (payload.get("repository") or {}).get("full_name") or os.environ.get("GITHUB_REPOSITORY")
    if not repo or number is None or not str(number).isdigit():
        return "the event names no issue number"
    return str(repo), int(number)


def triage_event(env: dict[str, str] | None = None) -> int:
    """Run ``fewtag triage`` for the event's issue; the exit code of the command (0 when skipped)."""
    env = dict(os.environ if env is None else env)
    path = env.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        raise InputError("$GITHUB_EVENT_PATH does not name the event payload file")
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: the event payload is not JSON ({exc.msg})") from None
    found = event_issue(env.get("GITHUB_EVENT_NAME", ""), payload if isinstance(payload, dict) else {})
    if isinstance(found, str):
        print(f"fewtag: nothing to triage: {found}")
        return 0
    repo, number = found
    cmd = [sys.executable, "-m", "fewtag", "triage", f"{repo}#{number}"]
    cmd += ["--config", env.get("FEWTAG_CONFIG") or DEFAULT_CONFIG_PATH]
    if env.get("FEWTAG_MODEL"):
        cmd += ["--model", env["FEWTAG_MODEL"]]
    if env.get("FEWTAG_STORE"):
        cmd += ["--store", env["FEWTAG_STORE"], "--online"]
    if env.get("FEWTAG_DRY_RUN", "false").lower() in ("1", "true", "yes"):
        cmd.append("--dry-run")
    print("fewtag: " + " ".join(cmd[2:]), flush=True)
    return subprocess.call(cmd, env=env)


def main(argv: list[str] | None = None) -> int:
    """``python -m fewtag.deploy.action resolve|triage``."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if args == ["resolve"]:
            _output(
                resolve(
                    os.environ.get("FEWTAG_CONFIG") or DEFAULT_CONFIG_PATH,
                    os.environ.get("FEWTAG_MODEL") or None,
                    os.environ.get("FEWTAG_MODEL_DIR") or DEFAULT_MODEL_DIR,
                )
            )
            return 0
        if args == ["triage"]:
            return triage_event()
    except TaggerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("usage: python -m fewtag.deploy.action resolve|triage", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
