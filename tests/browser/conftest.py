"""Browser tests: a real `sightline serve` (uvicorn) on a free port and Debian's Chromium,
headless, driven by Playwright (never `playwright install`: the browser is the system's)."""

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from tests.services import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SIGHTLINE = str(Path(sys.executable).with_name("sightline"))


def wait_until_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sightline serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("sightline serve did not become ready")


@pytest.fixture(scope="session")
def server_url(database_url: str, redis_url: str) -> Iterator[str]:
    """`sightline serve` on the tests' database, with a cache key prefix of its own."""
    port = free_port()
    env = {**os.environ, "SIGHTLINE_DATABASE_URL": database_url, "SIGHTLINE_REDIS_URL": redis_url,
           "SIGHTLINE_CACHE__KEY_PREFIX": f"browser-{uuid.uuid4().hex[:8]}:"}
    process = subprocess.Popen([SIGHTLINE, "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium says "HeadlessChrome" in its user agent, which the tracker's bot
    filter drops; it is started with the user agent of the Chrome it is. (A per-context
    override is not enough: beacons sent while a page unloads carry the browser's own.)"""
    async with async_playwright() as playwright:
        probe = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await probe.new_page()
        agent = (await page.evaluate("navigator.userAgent")).replace("HeadlessChrome", "Chrome")
        await probe.close()
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--user-agent={agent}"])
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile (no cookies, no storage) per test."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    await ctx.close()
