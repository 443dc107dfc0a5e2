"""A real Streamlit server and Debian's Chromium, driven by Playwright.

In CI (CI=true) a missing Chromium is a failure, never a skip; locally the browser tests skip
with the reason when no Chromium exists.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from loadtest.client import start_server as launch

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def start_server():
    """`streamlit run app.py` on a free loopback port: (server, base URL) once /_stcore/health is ok.
    (The load test's launcher, so both start the app the same way.)"""
    try:
        server = launch(ROOT / "app.py")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    return server, server.url


def stop_server(server) -> None:
    server.stop()


@pytest.fixture(scope="session")
def server():
    handle, url = start_server()
    yield url
    stop_server(handle)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install Debian's chromium package")
        pytest.skip("no Chromium on this machine (apt-get install -y chromium); browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    yield pg
    context.close()


def wait_idle(pg, timeout: float = 30_000) -> None:
    """Wait until the current rerun has finished (widgets debounce ~200 ms first)."""
    pg.wait_for_timeout(250)
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def open_app(pg, url: str, timeout: float = 60_000) -> None:
    pg.goto(url)
    pg.wait_for_selector("[data-testid=stApp]", timeout=timeout)
    wait_idle(pg, timeout)
    # Before the websocket's first run starts the app also says notRunning (seen on a cold server: the page
    # then re-rendered under a click and the element was detached): every page has a title, so wait for it.
    pg.wait_for_selector("[data-testid=stMain] h1", timeout=timeout)
    wait_idle(pg, timeout)


def screenshot(pg, name: str, full: bool = False) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=full)
    return path
