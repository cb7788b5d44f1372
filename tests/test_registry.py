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


def test_create_is_the_one_factory():
    from fewtag.registry import create

    t = create("tfidf-logreg", {"C": 2.0}, seed=7, model="ignored-by-tfidf")
    assert t.C == 2.0 and t.random_state == 7 and not hasattr(t, "model")


def test_an_unknown_parameter_names_it_and_lists_the_valid_ones():
    from fewtag.errors import ConfigError
    from fewtag.registry import create

    with pytest.raises(ConfigError, match=r"has no parameter nonsense; its parameters: .*random_state"):
        create("tfidf-logreg", {"nonsense": 1})


def test_methods_do_not_import_the_pipeline():
    code = "import sys, fewtag.methods.base, fewtag.registry; print('fewtag.pipeline' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


@pytest.fixture
def saved(tmp_path):
    import json

    from fewtag.registry import create

    create("naive-bayes").fit(
        ["crash now", "add option", "crash again", "new option"], [["bug"], ["feature"], ["bug"], ["feature"]]
    ).save(tmp_path / "m")
    path = tmp_path / "m" / "fewtag.json"
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m["decision"].update(threshold=float("nan")), "finite"),
        (lambda m: m["decision"].update(kind="per-label", thresholds=[0.5]), "thresholds for 2 classes"),
        (lambda m: m.update(classes=["bug", "bug"]), "twice"),
        (lambda m: m.update(classes="bug"), "label names"),
        (lambda m: m.update(multi_label="yes"), "multi_label"),
        (lambda m: m.update(params={"nonsense": 1}), "does not take"),
        (lambda m: m.update(decision_spec={"objective": "weighted"}), "objective"),
        (lambda m: m.update(text={"max_chars": -1}), "max_chars"),
    ],
)
def test_a_corrupt_model_folder_is_one_clear_error(saved, change, message):
    import json

    from fewtag.errors import ModelFileError
    from fewtag.registry import load_tagger

    path, meta = saved
    change(meta)
    path.write_text(json.dumps(meta))  # json writes NaN as NaN, as a careless edit would
    with pytest.raises(ModelFileError, match=message):
        load_tagger(path.parent)
