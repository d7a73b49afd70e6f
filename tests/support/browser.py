"""Debian's Chromium through Selenium for the browser tests: a desktop window or a 390 px
phone (device metrics, as a phone reports them), and waiting helpers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
VIEWPORTS = {"desktop": (1200, 1000), "phone": (390, 844)}


@contextmanager
def chromium(viewport: str = "desktop", profile: Path | None = None) -> Iterator[Any]:
    """A headless, offline webdriver (no browser or driver is ever downloaded, no background
    network), on a fresh profile in ``profile`` if given; console logged; quit on exit."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        raise RuntimeError("Debian chromium and chromium-driver are required (apt install)")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    width, height = VIEWPORTS[viewport]
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--window-size={max(width, 800)},{height}",
                *([f"--user-data-dir={profile}"] if profile else [])):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    if viewport == "phone":
        drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
    drv.implicitly_wait(0)
    try:
        yield drv
    finally:
        drv.quit()


def wait(driver: Any, condition: Callable[[Any], Any], timeout: float = 10) -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # A refresh may replace what the condition looks at between two polls: look again.
    ignored = (StaleElementReferenceException, NoSuchElementException)
    return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=ignored).until(
        condition)


def js_errors(driver: Any) -> list[str]:
    """Script errors the page raised (a refused request is the API's answer, not one)."""
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and e.get("source") == "javascript"]


def fits(driver: Any) -> bool:
    """Nothing on the page is wider than the viewport (no sideways scrolling)."""
    return bool(driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1;"))
