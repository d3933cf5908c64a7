"""A real browser: JupyterLab runs notebook 06, the slider moves, the bars change.

Another piece shows the busy line before it appears, and no cell writes to stderr.

Needs Debian's Chromium (``apt-get install chromium``, which ``make setup``
does where it can) driven by Playwright for Python; skipped, with the reason,
where it is missing. Leaves a screenshot in ``data/runs/browser/``.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cclib import paths

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "06_listen_and_classify.ipynb"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(url: str, server: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            last = log.read_text().strip().splitlines()[-1:] or ["(no output)"]
            raise RuntimeError(f"JupyterLab exited with status {server.returncode}: {last[0]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {seconds:.0f} s")


@pytest.fixture
def jupyterlab(tmp_path, trial_runs, small_corpus):
    """A JupyterLab server on a free loopback port, serving notebook 06 with this test's parameters."""
    import papermill

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    try:  # Ubuntu's chromium package is a snap wrapper that may not run here
        subprocess.run([str(CHROMIUM), "--version"], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"{CHROMIUM} does not run ({type(error).__name__}); the browser test needs it")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
    root = tmp_path / "lab"
    root.mkdir()
    papermill.execute_notebook(str(NOTEBOOK), str(root / "06.ipynb"), prepare_only=True, parameters={
        "model": str(trial_runs / "runs" / "piece" / "trial-00"), "audio_dir": str(small_corpus),
        "piece": "Palestrina_1.wav"})
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log_path = tmp_path / "jupyterlab.log"
    log = open(log_path, "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", server, log_path)
        yield f"http://127.0.0.1:{port}/lab/tree/06.ipynb?token={token}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def accept_kernel_dialog(page, seconds: float = 90) -> None:
    """Accept JupyterLab's kernel-selection dialog if it comes; return once the kernel is idle."""
    dialog = page.locator(".jp-Dialog .jp-mod-accept")
    idle = page.locator(".jp-StatusBar-TextItem", has_text="Idle")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if dialog.count() and dialog.first.is_visible():
            dialog.first.click()
        elif idle.count():
            return
        page.wait_for_timeout(250)
    raise TimeoutError(f"the notebook's kernel was not idle within {seconds:.0f} s")


def choose_another_piece_and_see_the_busy_state(page) -> None:
    """Pick the next piece; the busy line must appear, then the new piece's heading."""
    heading = page.locator(".cclib-heading")
    before = heading.inner_text()
    page.evaluate("""() => {
        window.cclibBusySeen = false;
        new MutationObserver(() => {
            if (document.querySelector('.cclib-busy')) window.cclibBusySeen = true;
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    select = page.locator(".widget-dropdown select").first
    shown, count = select.evaluate("s => [s.selectedIndex, s.options.length]")
    select.select_option(index=(shown + 1) % count)
    page.wait_for_function("() => window.cclibBusySeen", timeout=60_000)
    page.wait_for_function(
        "before => document.querySelector('.cclib-heading').innerText !== before",
        arg=before, timeout=60_000)
    assert page.locator(".cclib-busy").count() == 0, "the busy line went once the piece was shown"


def test_notebook_06_runs_in_jupyterlab_and_the_slider_updates_the_bars(jupyterlab):
    from playwright.sync_api import expect, sync_playwright

    screenshot = paths.runs_dir() / "browser" / "06_listen_and_classify.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        try:
            page.goto(jupyterlab)
            accept_kernel_dialog(page)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            bars = page.locator(".cclib-bars")
            expect(bars).to_be_visible(timeout=180_000)
            before = bars.inner_text()
            assert "%" in before
            handle = page.locator(".widget-slider .noUi-handle").first
            handle.scroll_into_view_if_needed()
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + 80, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            page.wait_for_function(
                "before => document.querySelector('.cclib-bars').innerText !== before",
                arg=before, timeout=60_000)
            after = bars.inner_text()
            assert after != before and "%" in after
            position = int(page.locator(".widget-readout").first.inner_text())
            assert position > 0
            expect(page.locator(".widget-image").first).to_be_visible()
            accept_kernel_dialog(page)  # idle again: the image and player are updated too
            choose_another_piece_and_see_the_busy_state(page)
            stderr = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
            assert stderr.count() == 0, f"stderr in the notebook: {stderr.first.inner_text()[:200]}"
        finally:
            page.screenshot(path=str(screenshot), full_page=True)
            browser.close()
    assert screenshot.stat().st_size > 10_000
