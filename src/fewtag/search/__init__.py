"""Semantic search over the store's issues: a FAISS index, nearest issues, duplicates.

One job per module: :mod:`~fewtag.search.encoder` (the sentence encoder),
:mod:`~fewtag.search.index` (build or update, resumably),
:mod:`~fewtag.search.faiss_build` (exact or IVF FAISS indexes, ``nprobe``
tuning), :mod:`~fewtag.search.persist` (the index folder beside the store),
:mod:`~fewtag.search.searcher` (queries) and :mod:`~fewtag.search.duplicates`
(the duplicate threshold). The SQL they need is :class:`fewtag.data.store.Store`'s.

>>> from fewtag.search import index_folder
>>> index_folder("fewtag.db").name
'fewtag.db.index'
"""

from fewtag.search.encoder import Encoder, load_encoder
from fewtag.search.faiss_build import build_faiss
from fewtag.search.index import BuildReport, build_index
from fewtag.search.persist import SearchIndex, index_folder, open_index
from fewtag.search.searcher import Hit, Searcher, parse_issue_ref

__all__ = [
    "BuildReport",
    "Encoder",
    "Hit",
    "SearchIndex",
    "Searcher",
    "build_faiss",
    "build_index",
    "index_folder",
    "load_encoder",
    "open_index",
    "parse_issue_ref",
]
