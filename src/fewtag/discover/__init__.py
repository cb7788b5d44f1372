"""Label discovery for the zero-label start: cluster issue embeddings and name the clusters.

>>> from fewtag.discover import discover, write_discovery  # doctest: +SKIP
>>> result = discover(texts, ids, k="auto")  # doctest: +SKIP
>>> write_discovery(result, "discovered/")  # doctest: +SKIP
"""

from __future__ import annotations

from fewtag.discover.cluster import Cluster, Discovery, ctfidf_keywords, discover
from fewtag.discover.report import write_discovery

__all__ = ["discover", "Discovery", "Cluster", "ctfidf_keywords", "write_discovery"]
