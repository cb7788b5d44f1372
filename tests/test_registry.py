import subprocess
import sys

import pytest

import fewtag
from fewtag.errors import UnknownMethodError


def test_unknown_method_lists_the_available_ones():
    with pytest.raises(UnknownMethodError, match="'set-fit' is not a method. Available: .*naive-bayes"):
        fewtag.get_method("set-fit")


def test_every_builtin_is_registered_under_its_name():
    for name in fewtag.available_methods():
        assert fewtag.get_method(name).name == name


def test_import_fewtag_is_light():
    code = "import sys, fewtag; print(any(m in sys.modules for m in ('torch', 'transformers', 'faiss')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
