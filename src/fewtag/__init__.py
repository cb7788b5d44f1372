"""fewtag: tag GitHub issues and other short texts with few or no labels.

>>> import fewtag
>>> "naive-bayes" in fewtag.available_methods()
True
"""

from fewtag._version import __version__
from fewtag.registry import available_methods, get_method, register

__all__ = ["__version__", "available_methods", "get_method", "register"]
