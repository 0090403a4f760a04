"""Browser tests: the real app on the test database, served over HTTP to Debian's Chromium.

Playwright drives the Chromium that apt installs (/usr/bin/chromium); no browser is ever
downloaded. Every console error and uncaught script error in any page fails the test,
Content-Security-Policy violations included. Screenshots of each step are kept under
test-artifacts/e2e/ at the repository root.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"

#: What the browser reported as errors during one test, and the page they came from.
BROWSER_ERRORS = pytest.StashKey[list[str]]()
OPEN_PAGE = pytest.StashKey[object]()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module's tests; each test gets its own context."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright not installed: "
                                   "pip install -e '.[dev]'")
    # Module scope, not session: Playwright's event loop must be gone before any later
    # test module runs asyncio code of its own.
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def live_url(demo) -> Iterator[str]:
    """The app with the demo conference loaded, served on a free port of 127.0.0.1.

    ``demo`` builds the app on the test database (SQLite or PostgreSQL) and empties every
    table after the test; the server stops before that, when the browser is closed.
    """
    server = make_server("127.0.0.1", 0, demo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def page(browser, live_url, request):
    """A fresh browser (no cookies) on the live app, reporting every console error."""
    context = browser.new_context(base_url=live_url, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh",
                                  viewport={"width": 1280, "height": 900})
    # Fail fast rather than after Playwright's 30 s default: every page here is local.
    context.set_default_timeout(10_000)
    errors: list[str] = []

    def on_console(message) -> None:
        # CSP violations, failed loads and console.error calls all arrive as "error".
        if message.type == "error":
            where = message.page.url if message.page else "?"
            errors.append(f"console.error on {where}: {message.text}")

    def on_uncaught(error) -> None:
        where = error.page.url if error.page else "?"
        errors.append(f"uncaught error on {where}: {error.error}")

    context.on("console", on_console)
    context.on("weberror", on_uncaught)
    opened = context.new_page()
    request.node.stash[BROWSER_ERRORS] = errors
    request.node.stash[OPEN_PAGE] = opened
    yield opened
    context.close()


def _artefact_stem(node_name: str) -> str:
    # "test_x[sqlite]" -> "test_x-sqlite": one set of files per test and database.
    return re.sub(r"[^\w.-]+", "-", node_name).strip("-")


@pytest.fixture
def screenshot(page, request) -> Callable[[str], Path]:
    """Save the page as test-artifacts/e2e/<test>-<database>/<step>.png."""
    folder = ARTEFACTS / _artefact_stem(request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()  # a rerun must not leave the steps of an earlier run beside its own

    def save(step: str) -> Path:
        path = folder / f"{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a browser test on any console error, and keep a screenshot of a failure."""
    errors = item.stash.get(BROWSER_ERRORS, None)
    opened = item.stash.get(OPEN_PAGE, None)
    try:
        result = yield
    except BaseException as failure:
        if opened is not None and not opened.is_closed():
            folder = ARTEFACTS / _artefact_stem(item.name)
            folder.mkdir(parents=True, exist_ok=True)
            try:
                opened.screenshot(path=str(folder / "failure.png"), full_page=True)
            except Exception as problem:  # the failure itself matters more than its picture
                failure.add_note(f"no failure screenshot: {problem}")
        if errors:
            failure.add_note("Browser errors:\n" + "\n".join(errors))
        raise
    if opened is not None and not opened.is_closed():
        # A round trip, so that errors the browser has sent are delivered before we look.
        opened.evaluate("0")
    if errors:
        pytest.fail("The browser reported errors:\n" + "\n".join(errors), pytrace=False)
    return result
