"""Tagging methods. Look them up with :func:`fewtag.get_method`."""

from fewtag.methods.base import BaseTagger
from fewtag.registry import load_tagger

__all__ = ["BaseTagger", "load_tagger"]
