"""The page in a real browser: Debian's headless Chromium driven through chromedriver (Selenium).

`make browser` installs ``chromium`` and ``chromium-driver``; CI runs it first, so here a missing
browser is a failure, not a skip. Set ``FEWTAG_NO_BROWSER=1`` to skip these tests on purpose.
``FEWTAG_SCREENSHOT=docs/annotate.png`` also writes the README's screenshot (from the bundled
huggingface/datasets issues, :func:`test_readme_screenshot_of_real_issues`).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from fewtag.active.task import LabelTask
from fewtag.annotate import AnnotateSettings, create_annotate_app
from fewtag.data.store import Store

from .conftest import REPO, make_store, wait_for

CHROMIUM = os.environ.get("FEWTAG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FEWTAG_CHROMEDRIVER", "/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("FEWTAG_NO_BROWSER") == "1", reason="FEWTAG_NO_BROWSER=1"),
]


def _browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).is_file() or shutil.which(p))]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: run `make browser` (apt-get install chromium chromium-driver), "
            "or set FEWTAG_NO_BROWSER=1 to skip the browser tests"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,900"):
        options.add_argument(arg)
    options.add_argument("--force-device-scale-factor=1")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Served:
    """The page under a real uvicorn server in a thread of this process."""

    def __init__(self, settings: AnnotateSettings, task: LabelTask):
        import uvicorn

        from fewtag.service.server import server_config
        from fewtag.service.settings import ServiceSettings

        self.app = create_annotate_app(settings, task)
        config = server_config(self.app, ServiceSettings(), host="127.0.0.1", port=settings.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base = f"http://127.0.0.1:{settings.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=60, what="uvicorn to start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    @property
    def state(self):
        return self.app.state.annotate


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shown(driver) -> str:
    return driver.find_element("id", "issue").get_attribute("data-id")


def _press(driver, keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(keys).perform()


def _next_issue(driver, before: str, timeout: float = 30) -> str:
    """Wait for the page after a save/skip/undo: a new issue on screen."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    def changed():
        try:
            now = _shown(driver)
        except (NoSuchElementException, StaleElementReferenceException):
            return None
        return now if now != before else None

    return wait_for(changed, timeout=timeout, what=f"the page to move on from issue {before}")


def test_label_three_with_the_keyboard_undo_one_reload_and_check_the_store(tmp_path):
    store = tmp_path / "fewtag.db"
    make_store(store)
    settings = AnnotateSettings(store=str(store), who="ana", batch=10, retrain_every=50, port=_free_port())
    task = LabelTask.from_labels("bug,docs,question", descriptions={"bug": "Something is broken"})
    driver = _browser()
    try:
        with Served(settings, task) as served:
            wait_for(lambda: served.state.pending(), timeout=120, what="the first batch")
            driver.get(served.base + "/")
            keys = {"bug": "1", "docs": "2", "question": "3"}
            done: list[tuple[str, str]] = []
            shown = _shown(driver)
            for label in ("docs", "question", "bug"):
                _press(driver, keys[label])
                box = driver.find_element("css selector", f'input[name=label][value="{label}"]')
                assert box.is_selected(), f"key {keys[label]} did not select {label}"
                _press(driver, "\n")  # Enter saves
                done.append((shown, label))
                shown = _next_issue(driver, shown)
                assert "Saved." in driver.find_element("id", "note").text
            _press(driver, "u")  # undo the third save: that issue comes back
            shown = _next_issue(driver, shown)
            assert shown == done[-1][0]
            assert "Undid the last save" in driver.find_element("id", "note").text
            driver.refresh()
            assert _shown(driver) == done[-1][0]  # still the undone issue after a reload
            assert driver.find_element("id", "n-session").text == "2"
            with Store(store) as s:
                assert [(a.item_id, a.labels) for a in s.current_annotations()] == [(i, [x]) for i, x in done[:2]]
                log = s.annotation_log(include_undone=True)
                assert len(log) == 3 and all(a.source == "human" and a.who == "ana" for a in log)
                assert [a.item_id for a in s.annotation_log()] == [done[0][0], done[1][0]]
            # the <script> body: shown as text, never run
            driver.get(f"{served.base}/item?repo={REPO}&id=1")
            body = driver.find_element("id", "body").text
            assert body.startswith('<script>window.__pwned = 1; document.title = "pwned"</script> <b>not bold</b>')
            assert driver.execute_script("return window.__pwned === undefined") is True
            assert driver.title != "pwned" and not driver.find_elements("css selector", "#body b")
            shot = tmp_path / "annotate.png"
            assert driver.save_screenshot(str(shot)) and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        driver.quit()


def test_the_page_works_without_javascript(tmp_path):
    """The same forms, posted by the browser itself (scripts off): save, then undo."""
    store = tmp_path / "fewtag.db"
    make_store(store)
    settings = AnnotateSettings(store=str(store), who="bo", batch=10, port=_free_port())
    task = LabelTask.from_labels("bug,docs,question")
    driver = _browser()
    try:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        with Served(settings, task) as served:
            wait_for(lambda: served.state.pending(), timeout=120, what="the first batch")
            driver.get(served.base + "/")
            first = _shown(driver)
            _press(driver, "3")  # no script: the key does nothing
            assert not driver.find_element("css selector", 'input[name=label][value="question"]').is_selected()
            driver.find_element("css selector", 'input[name=label][value="question"]').click()
            driver.find_element("id", "save").click()
            second = _next_issue(driver, first)
            driver.find_element("id", "undo").click()
            assert _next_issue(driver, second) == first
            with Store(store) as s:
                assert s.current_annotations() == [] and len(s.annotation_log(include_undone=True)) == 1
    finally:
        driver.quit()


@pytest.mark.skipif(not os.environ.get("FEWTAG_SCREENSHOT"), reason="set FEWTAG_SCREENSHOT=docs/annotate.png")
def test_readme_screenshot_of_real_issues(tmp_path):
    """The README's screenshot: the bundled huggingface/datasets issues, configs/hf-datasets.toml."""
    from fewtag.data.importers import import_file

    store = tmp_path / "fewtag.db"
    import_file(ROOT / "data/sample/huggingface-datasets-issues.jsonl.gz", store)
    with Store(store) as s:
        task = LabelTask.from_config(ROOT / "configs/hf-datasets.toml", store=s)
    task.descriptions = {
        "bug": "a bug in the datasets library",
        "dataset bug": "a broken dataset on the Hub, not a library bug",
        "dataset request": "asks to add a dataset",
        "dataset-viewer": "the Hub's dataset viewer",
        "streaming": "streaming mode (IterableDataset)",
    }
    settings = AnnotateSettings(store=str(store), who="maintainer", port=_free_port())
    driver = _browser()
    try:
        with Served(settings, task) as served:
            wait_for(
                lambda: served.state.snapshot.rounds and served.state.pending() and served.state.busy is None,
                timeout=900,
                what="a model and its batch",
            )
            driver.get(served.base + "/")
            for _ in range(2):  # two saves with the model's best label
                best = max(served.state.current().scores.items(), key=lambda p: p[1])[0]
                _press(driver, driver.find_element("css selector", f'input[value="{best}"]').get_attribute("data-key"))
                before = _shown(driver)
                _press(driver, "\n")
                _next_issue(driver, before)
            wait_for(lambda: served.state.busy is None, timeout=120, what="the recount")
            driver.get(served.base + "/?note=saved")
            best = max(served.state.current().scores.items(), key=lambda p: p[1])[0]  # checked on screen
            _press(driver, driver.find_element("css selector", f'input[value="{best}"]').get_attribute("data-key"))
            out = Path(os.environ["FEWTAG_SCREENSHOT"])
            out.parent.mkdir(parents=True, exist_ok=True)
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1440, min(max(900, height + 160), 1500))
            time.sleep(0.3)
            assert driver.save_screenshot(str(out))
    finally:
        driver.quit()
