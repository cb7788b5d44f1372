"""Semantic search over the store's issues: a FAISS index, nearest issues, duplicates.

>>> from fewtag.search import index_folder
>>> index_folder("fewtag.db").name
'fewtag.db.index'
"""

from fewtag.search.index import (
    BuildReport,
    Hit,
    SearchIndex,
    build_index,
    index_folder,
    load_encoder,
    open_index,
)

__all__ = ["BuildReport", "Hit", "SearchIndex", "build_index", "index_folder", "load_encoder",
           "open_index"]
