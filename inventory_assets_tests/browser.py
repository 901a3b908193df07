"""Headless Chromium for the UI tests: Debian's `chromium`, driven by Playwright.

Playwright cannot download its own browsers here, so it launches the system
one. Nothing in this module imports Playwright: without it (or without
Chromium) the UI tests skip, and the rest of the suite does not notice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from inventory_assets_tests.support import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

CHROMIUM = Path(os.environ.get("INVENTORY_E2E_CHROMIUM", "/usr/bin/chromium"))
# Screenshots of failed UI tests (gitignored); CI can keep them as artifacts.
ARTIFACTS_DIR = ROOT / "test-artifacts" / "e2e"
# Set to a directory (docs/images) to refresh the screenshots of docs/daily-use.md.
DOC_SCREENSHOTS = os.environ.get("INVENTORY_E2E_SCREENSHOTS")
VIEWPORT = {"width": 1280, "height": 800}
ACTION_TIMEOUT_MS = 60_000  # the UI answers slowly while runs keep both cores busy


@contextmanager
def chromium() -> Iterator[Browser]:
    """The system Chromium under Playwright; skips the test when either is missing."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the UI tests need `pip install playwright`"
    )
    if not CHROMIUM.exists():
        pytest.skip(f"the UI tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def new_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page in a fresh browser profile, with paths relative to `base_url`."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def save_failure_screenshot(page: Page, test_name: str) -> str:
    """Screenshot the page of a failed test; returns where it went, or why it could not."""
    path = ARTIFACTS_DIR / f"{test_name}.png"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path, full_page=True)
    except Exception as error:  # the browser may be what failed
        return f"no screenshot: {error}"
    return str(path)


def save_doc_screenshot(shown: Page | Locator, name: str) -> None:
    """Save a page or a part of it for docs/daily-use.md, when INVENTORY_E2E_SCREENSHOTS
    names a dir."""
    if DOC_SCREENSHOTS:
        directory = Path(DOC_SCREENSHOTS)
        directory = directory if directory.is_absolute() else ROOT / directory
        directory.mkdir(parents=True, exist_ok=True)
        shown.screenshot(path=directory / name)
