"""``fewtag annotate``: a local web page to label issues one at a time, with the model's
suggestion, keyboard keys, saves straight to the store's annotations log and a background
retrain every N labels. The query strategies and the model come from :mod:`fewtag.active`.
"""

from fewtag.annotate.app import create_annotate_app
from fewtag.annotate.settings import AnnotateSettings, check_access

__all__ = ["create_annotate_app", "AnnotateSettings", "check_access"]
