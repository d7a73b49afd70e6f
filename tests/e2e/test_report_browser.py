"""The backtest report in Debian's Chromium, opened from disk with no network: no console
errors, every chart drawn, the course filter shows one course, and a click on a column
heading sorts its table. Set FACILITATION_REPORT_SCREENSHOT=path to save a screenshot."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facilitation_stream.cli.main import main
from tests.support.browser import chromium
from tests.unit.two_courses import A, B, pack_text, write_two_courses

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    with chromium(profile=tmp_path / "chromium-profile") as drv:
        yield drv


@pytest.fixture
def report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    log = write_two_courses(tmp_path / "lms.jsonl")
    fast = tmp_path / "fast.yaml"
    fast.write_text(pack_text("fast", sla=6, question_sla=6))
    roster = tmp_path / "tutors.yaml"
    roster.write_text("- tina\n- tom\n")
    path = tmp_path / "report.html"
    argv = ["replay", str(log), "--compare", str(fast), "--roster", str(roster), "--report",
            str(path)]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    return path


def visible(driver: Any, selector: str) -> list[str]:
    return [
        str(el.get_attribute("data-course"))
        for el in driver.find_elements("css selector", selector)
        if el.is_displayed()
    ]


def test_the_report_opens_offline_without_errors_and_its_controls_work(driver, report):
    from selenium.webdriver.support.ui import Select

    driver.get(report.as_uri())
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    sizes = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.marks'))"
        ".map(s => s.getBoundingClientRect().width)"
    )
    assert len(sizes) >= 12 and min(sizes) > 100  # every chart drawn, none collapsed
    assert visible(driver, "section.course") == [A, B, "all"]

    Select(driver.find_element("id", "course-filter")).select_by_value(B)
    assert visible(driver, "section.course") == [B]
    assert set(visible(driver, "#summary tbody tr")) == {B}
    assert set(visible(driver, "#learners [data-course]")) <= {B}
    Select(driver.find_element("id", "course-filter")).select_by_value("all")
    assert visible(driver, "section.course") == [A, B, "all"]

    column = "return Array.from(document.querySelectorAll('#summary tbody tr td:nth-child(2)'))" \
             ".map(td => td.textContent)"  # fmt: skip
    heading = driver.find_element("css selector", "#summary thead th:nth-child(2)")
    heading.click()
    ascending = driver.execute_script(column)
    heading.click()
    descending = driver.execute_script(column)
    numbers = [int(x.replace(",", "")) for x in ascending]
    assert numbers == sorted(numbers) and descending == ascending[::-1]
    assert driver.get_log("browser") == []
    shot = os.environ.get("FACILITATION_REPORT_SCREENSHOT")
    if shot:
        driver.save_screenshot(shot)
