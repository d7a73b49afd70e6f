"""The backtest report (issue 21, item 3), read as a parser reads it: its sections, charts
with axis titles, small samples listed rather than summarised, accessible colours, nothing
loaded from elsewhere, and everything from the log escaped."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest

from facilitation_rules.packs.loader import parse_pack
from facilitation_stream.backtest import charts
from facilitation_stream.backtest.ordered_input import load_sorted, replay_batches
from facilitation_stream.backtest.outcomes import describe_waits, distinct, duration
from facilitation_stream.backtest.report_html import ReportInput, TutorList, render_report
from facilitation_stream.ingest.read_stats import ReadStats
from tests.unit.two_courses import A, B, pack_text, write_two_courses

XSS = "<script>alert(1)</script>"


class Outline(HTMLParser):
    """Section ids, headings, svg texts and links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.headings: list[str] = []
        self.svg_text: list[str] = []
        self.links: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._stack.append(tag)
        if tag == "section":
            self.sections.append(str(values.get("id")))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if tag == "script":
            self.scripts.append(values)

    def handle_endtag(self, tag: str) -> None:
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1] in ("h2", "h3"):
            self.headings.append(data.strip())
        if "svg" in self._stack and self._stack[-1] == "text" and data.strip():
            self.svg_text.append(data.strip())


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = write_two_courses(tmp_path_factory.mktemp("log") / "lms.jsonl", title=XSS)
    slow, fast = parse_pack(pack_text("slow", 24, 24)), parse_pack(pack_text("fast", 6, 6))
    stats = ReadStats()
    items = load_sorted([str(path)], "auto", stats)
    a, b = replay_batches([items], [slow, fast], None)
    for alert in a.alerts:  # a link a hostile log could carry
        if alert.subject_id == "at2":
            alert.details["url"] = "javascript:alert(1)"
        elif alert.subject_id == "at4":
            alert.details["url"] = "https://lms.example.org/courses/x/discussion/at4"
    html = render_report(ReportInput(a, stats, TutorList(["tina", "tom"]), b, ("a.yaml", "b.yaml")))
    outline = Outline()
    outline.feed(html)
    return html, outline


def test_the_report_has_every_section(report):
    _, outline = report
    course = [f"course-{c}".replace(":", "-").replace("+", "-") for c in (A, B)]
    assert outline.sections == [
        "summary",
        *course,
        "all-courses",
        "comparison",
        "learners",
        "settings",
        "data-quality",
    ]
    for heading in ("Summary by course", A, B, "All courses", "Alerts per day, by rule",
                    "Per-tutor load", "Time to first reply (learners' watched posts)",
                    "Learners' first posts answered within the SLA", "Learners with open alerts",
                    "Pack settings", "Data quality"):  # fmt: skip
        assert heading in outline.headings, heading


def test_charts_are_static_svg_with_titles_on_both_axes(report):
    html, outline = report
    assert html.count("<svg") >= 12
    for title in ("Day (UTC)", "Alerts fired per day", "Rule", "Time to first reply",
                  "Learners' watched posts", "Learners' first posts", "Tutor", "Alerts assigned",
                  "Alerts fired"):  # fmt: skip
        assert title in outline.svg_text, title


def test_small_samples_are_listed_not_summarised_by_a_median(report):
    html, _ = report
    assert "4 answered: 2.0 h, 10.0 h, 20.0 h and 30.0 h" in html
    assert "median" not in html.split("id=comparison")[0].split("all courses")[0]
    assert describe_waits([2 / 3, 74.4]) == "2 answered: 40 min and 3.1 days"
    assert describe_waits([1, 2, 3, 4, 10]) == (
        "5 answered: median 3.0 h (half of them between 2.0 h and 4.0 h)"
    )
    assert describe_waits([]) == "none answered" and duration(0.001) == "1 min"


def test_nothing_is_loaded_from_elsewhere_and_the_script_is_inline(report):
    html, outline = report
    assert outline.scripts == [{}]
    assert not re.search(r"<(img|link|iframe|object|embed)\b", html)
    assert "@import" not in html and "url(" not in html


def test_what_the_log_says_is_escaped_and_only_web_links_are_links(report):
    html, outline = report
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert outline.links and all(
        link.startswith(("#", "https://", "http://")) for link in outline.links
    )
    assert "https://lms.example.org/courses/x/discussion/at4" in outline.links


def test_the_comparison_settings_and_data_quality_sections(report):
    html, _ = report
    comparison = html[html.index("id=comparison") : html.index("id=learners")]
    assert "only A" in comparison and "Only B, unanswered_post:" in comparison
    settings = html[html.index("id=settings") : html.index("id=data-quality")]
    assert "<tr class=changed><td class='text sub'>reply due within (SLA)" in settings
    assert "<b>24 h</b>" in settings and "<b>6 h</b>" in settings
    quality = html[html.index("id=data-quality") :]
    assert "records read" in quality and "events replayed" in quality


def test_learners_with_open_alerts_are_a_sortable_table_per_course(report):
    html, _ = report
    learners = html[html.index("id=learners") : html.index("id=settings")]
    assert learners.count("<table class='sortable compact learners'>") == 2
    assert "a-learner4" in learners and "unanswered_post.escalation" in learners
    assert "<th class=text>username</th>" in learners


def test_the_colours_keep_3_to_1_contrast_on_white():
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for colour in charts.PALETTE:
        assert 1.05 / (luminance(colour) + 0.05) >= 3.0, colour
    assert len(set(charts.PALETTE)) == len(charts.RULES)


def test_bins_follow_the_span():
    assert charts.time_bins(date(2024, 1, 1), date(2024, 3, 1)) == "day"
    assert charts.time_bins(date(2024, 1, 1), date(2025, 1, 1)) == "week"
    assert charts.time_bins(date(2023, 1, 1), date(2025, 6, 1)) == "month"


def test_reasons_are_distinct_in_what_they_say():
    assert distinct(
        [
            "no activity for 13 days",
            "no activity for 10 days (last active 2024-03-24)",
            "active on 1 of the last 14 days",
            "no activity for 13 days",
        ]
    ) == ["no activity for 13 days", "active on 1 of the last 14 days"]
