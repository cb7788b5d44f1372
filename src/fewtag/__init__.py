"""fewtag: tag GitHub issues and other short texts with few or no labels.

>>> import fewtag
>>> "naive-bayes" in fewtag.available_methods()
True
"""

__version__ = "0.1.0"

from fewtag.registry import available_methods, get_method, register  # noqa: E402

__all__ = ["__version__", "available_methods", "get_method", "register"]
