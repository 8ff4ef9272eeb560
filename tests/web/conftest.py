"""Browser tests: the real app on uvicorn in a thread, driven by Playwright in Chromium.

Debian's Chromium (``/usr/bin/chromium``) is used, never a downloaded browser; without it the
browser tests skip and say why. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from openscore.api.app import create_app
from openscore.config import Settings
from tests.web.world import PASSWORD, World, build_world

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The scored city; ``OPENSCORE_TEST_WEB_WORLD=DIR`` keeps it in DIR across runs."""
    kept = os.environ.get("OPENSCORE_TEST_WEB_WORLD")
    root = Path(kept) if kept else tmp_path_factory.mktemp("web-world")
    root.mkdir(parents=True, exist_ok=True)
    return build_world(root)


@pytest.fixture(scope="session")
def base_url(world: World) -> Iterator[str]:
    """The service with its pages on a free loopback port, for the whole session."""
    app = create_app(Settings(data_dir=world.data_dir))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


Screenshot = Callable[[Page, str], Path]


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Screenshot:
    """``screenshot(page, "name")`` saves a full-page PNG named after the test."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def save(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{test}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh browser context (no cookies) at a laptop's size; errors on the page fail."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, base_url=base_url)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert problems == []


def sign_in(page: Page, member_id: str) -> None:
    page.goto("/signin")
    page.fill("#member_id", member_id)
    page.fill("#password", PASSWORD)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_url("**/me")


def sign_in_partner(page: Page, key: str) -> None:
    page.goto("/partner")
    page.fill("#api_key", key)
    page.click("form[action='/partner/signin'] button[type=submit]")
    page.wait_for_selector("#standing")
