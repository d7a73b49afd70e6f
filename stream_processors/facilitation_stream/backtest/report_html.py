"""The backtest report: one self-contained HTML file a course lead reads offline.

Charts are static SVG rendered by ``charts`` (Vega-Lite, no network); the only script is
inline and optional (the course filter and sortable tables work with it, every section is
readable without it). Sections, in order: a summary per course; one section per course
(and all courses together when there are several): alerts over time by rule, tutor load
against capacity (for the roster's course), time to first reply, learners' first posts
answered within the SLA, a sample of alerts with their reasons and links; the comparison
of two packs (``--compare``); the learners with open alerts (a sortable table); the pack's
settings; data quality. Everything a reader sees comes from the log or the pack and is
escaped; only http(s) links become links.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from facilitation_rules.contract.alerts import Alert
from facilitation_stream.backtest import charts
from facilitation_stream.backtest.ordered_input import ReplayRun
from facilitation_stream.backtest.outcomes import (
    courses_of,
    describe_waits,
    fired,
    first_posts,
    for_tutors,
    in_course,
    reply_hours,
    tutor_load,
    watched_posts,
    weeks,
)
from facilitation_stream.backtest.report_sections import (
    alerts_sample,
    comparison_section,
    data_quality,
    learners_section,
    pack_settings,
)
from facilitation_stream.ingest.read_stats import ReadStats

ALL = "all"  # the course filter's value for every course


class TutorList:
    """A plain list of tutor ids (the fallback roster): alerts are dealt round-robin."""

    course_id: str | None = None

    def __init__(self, tutors: Sequence[str]) -> None:
        if not tutors:
            raise ValueError("the roster names no tutors")
        self.tutors = list(tutors)


def load_roster(path: str) -> Any:
    """A roster YAML (``facilitation_rules.routing.roster``: one course), or a YAML list /
    text file of tutor ids (every course)."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    data = yaml.safe_load(text)
    if isinstance(data, list):
        return TutorList([str(t) for t in data])
    if isinstance(data, dict):
        from facilitation_rules.routing.roster import parse_roster

        return parse_roster(data, path)
    return TutorList([line.strip() for line in text.splitlines() if line.strip()])


@dataclass(slots=True)
class ReportInput:
    """What the report shows: the replay (its pack in ``run.pack``) and what came with it."""

    run: ReplayRun
    stats: ReadStats = field(default_factory=ReadStats)
    roster: Any | None = None
    #: the replay of the same log with the pack ``--compare`` names
    other: ReplayRun | None = None
    #: the files the pack(s) came from, for the reader
    sources: tuple[str, str] = ("the default pack", "the default pack")
    files: int = 1


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def anchor(course: str) -> str:
    return "course-" + "".join(c if c.isalnum() else "-" for c in course)


def render_report(report: ReportInput) -> str:
    run = report.run
    assert run.pack is not None
    courses = courses_of(run)
    until = datetime.fromtimestamp(run.until, UTC).isoformat().replace("+00:00", "Z")
    scopes: list[str | None] = [*courses, None] if len(courses) > 1 else [*courses]
    body = [
        _header(report, courses, until),
        _summary(report, courses),
        *(_course_section(report, course) for course in scopes or [None]),
    ]
    if report.other is not None:
        body.append(comparison_section(run, report.other))
    packs = [(run.pack, report.sources[0])]
    if report.other is not None and report.other.pack is not None:
        packs.append((report.other.pack, report.sources[1]))
    body += [
        learners_section(run, report.stats.usernames),
        pack_settings(packs),
        data_quality(report.stats, run, report.files),
    ]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>Facilitation backtest: {e(run.pack.name)}</title><style>{_CSS}</style></head>"
        "<body><main>" + "".join(body) + f"</main><script>{_SCRIPT}</script></body></html>\n"
    )


def _header(report: ReportInput, courses: list[str], until: str) -> str:
    run = report.run
    assert run.pack is not None
    options = "".join(f"<option value='{e(c)}'>{e(c)}</option>" for c in courses)
    compared = ""
    if report.other is not None and report.other.pack is not None:
        compared = f" compared with <b>{e(report.other.pack.name)}</b>"
    picker = (
        "<p class=filter><label for=course-filter>Show course</label> "
        f"<select id=course-filter><option value={ALL}>all courses</option>{options}</select>"
        "</p>"
        if len(courses) > 1
        else ""
    )
    return (
        f"<h1>Facilitation backtest: {e(run.pack.name)}{compared}</h1>"
        f"<p>Rule pack <b>{e(run.pack.name)}</b> ({e(report.sources[0])}); {run.fed:,} "
        f"events replayed from {report.files} file(s), {len(courses)} course(s); clock "
        f"advanced to {e(until)}.</p>{picker}"
    )


def _summary(report: ReportInput, courses: list[str]) -> str:
    run = report.run
    assert run.pack is not None
    rows = []
    for course in [*courses, None] if len(courses) != 1 else courses:
        alerts = in_course(run.alerts, course)
        shown = fired(alerts)
        posts = watched_posts(run, course)
        share = first_posts(run, run.pack, course).share
        nudges = for_tutors(shown)
        name = course or "all courses"
        link = f"<a href='#{anchor(course)}'>{e(name)}</a>" if course else e(name)
        rows.append(
            f"<tr data-course='{e(course or ALL)}'><td class=text>{link}</td>"
            f"<td>{len(shown):,}</td>"
            f"<td>{len(nudges) / weeks(run, nudges):,.1f}</td><td>{len(posts):,}</td>"
            f"<td>{e(describe_waits(reply_hours(posts)))}</td>"
            f"<td>{'n/a' if share is None else f'{share:.0%}'}</td></tr>"
        )
    return (
        "<section id=summary><h2>Summary by course</h2><table class=sortable><thead><tr>"
        "<th class=text>course</th><th>alerts fired</th><th>nudges a week</th><th>learner posts "
        "watched</th><th>time to first reply</th><th>first posts answered within the SLA"
        "</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def _course_section(report: ReportInput, course: str | None) -> str:
    run = report.run
    assert run.pack is not None
    alerts = in_course(run.alerts, course)
    title = course or "All courses"
    parts = [f"<h2>{e(title)}</h2>", _rule_table(alerts)]
    over_time = charts.alerts_over_time(alerts)
    if over_time is None:
        parts.append("<p>No alerts fired.</p>")
    else:
        chart, unit = over_time
        parts.append(f"<h3>Alerts per {unit}, by rule</h3>{chart}")
    parts.append(_tutor_load(report, course, alerts))
    posts = watched_posts(run, course)
    hours = reply_hours(posts)
    parts.append("<h3>Time to first reply (learners' watched posts)</h3>")
    if posts:
        parts.append(
            f"<p>{len(posts):,} posts watched; {e(describe_waits(hours))}; "
            f"{len(posts) - len(hours):,} never answered.</p>"
            + charts.reply_time_chart(hours, len(posts) - len(hours))
        )
    else:
        parts.append("<p>No learner posts were watched.</p>")
    share = first_posts(run, run.pack, course)
    parts.append("<h3>Learners' first posts answered within the SLA</h3>")
    if share.total:
        parts.append(
            f"<p><b>{share.share:.0%}</b> of {share.total:,} learners' first posts got a reply "
            f"from someone else within the SLA; {share.late:,} later; {share.never:,} never."
            "</p>" + charts.sla_chart(share)
        )
    else:
        parts.append("<p>No learner posts.</p>")
    parts.append(alerts_sample(alerts, report.stats.usernames))
    ident = anchor(course) if course else "all-courses"
    return (
        f"<section class=course id='{ident}' data-course='{e(course or ALL)}'>"
        + "".join(parts)
        + "</section>"
    )


def _rule_table(alerts: list[Alert]) -> str:
    shot = Counter(a.rule for a in alerts if a.action == "fire")
    resolved = Counter(a.rule for a in alerts if a.action == "resolve")
    rows = "".join(
        f"<tr><td>{e(rule)}</td><td>{shot[rule]:,}</td><td>{resolved[rule]:,}</td></tr>"
        for rule in sorted(shot | resolved)
    )
    if not rows:
        return ""
    return (
        "<table class=sortable><thead><tr><th>rule</th><th>fired</th><th>resolved</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _tutor_load(report: ReportInput, course: str | None, alerts: list[Alert]) -> str:
    roster = report.roster
    if roster is None:
        return ""
    named = getattr(roster, "course_id", None)
    if named is not None and course != named:
        return ""  # a roster applies to the course it names (the summary warns of others)
    load = tutor_load(alerts, roster)
    rows = "".join(
        f"<tr><td>{e(t)}</td><td>{load.assigned[t]:,}</td><td>{load.peak[t]:,}</td>"
        f"<td>{load.capacity.get(t, '')}</td></tr>"
        for t in sorted(load.assigned)
    )
    notes = [load.note] if load.note else []
    if load.unassigned:
        notes.append(f"{load.unassigned:,} alerts found no tutor (everyone away).")
    if load.capacity:
        notes.append("Bars: the most nudges a tutor held at once; black mark: their capacity.")
    return (
        "<h3>Per-tutor load</h3>"
        + "".join(f"<p>{e(n)}</p>" for n in notes)
        + charts.tutor_load_chart(load)
        + "<table class=sortable><thead><tr><th>tutor</th><th>alerts assigned</th>"
        f"<th>most open at once</th><th>capacity</th></tr></thead><tbody>{rows}</tbody></table>"
    )


_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1a1a1a;"
    "background:#fff}main{max-width:1000px;margin:0 auto;padding:1.5em}"
    "table{border-collapse:collapse;margin:.6em 0}td,th{padding:3px 10px;text-align:right;"
    "border-bottom:1px solid #ddd;vertical-align:top}th:first-child,td:first-child,"
    "td.text,th.text{text-align:left}th{background:#f2f2f2}td{overflow-wrap:break-word}"
    "table.compact{font-size:.88em}td.wide{min-width:22em}.nowrap{white-space:nowrap}"
    "td.sub{padding-left:1.6em}tr.changed{background:#fff4e5}"
    "table.sortable th{cursor:pointer}table.sortable th[aria-sort]::after{content:' ▲'}"
    "table.sortable th[aria-sort=descending]::after{content:' ▼'}"
    "section{border-top:2px solid #0072B2;margin-top:2em}svg{display:block;max-width:100%;"
    "height:auto;margin:.8em 0;overflow:visible}.filter{font-size:1.05em}.warn{color:#8a2a00}"
    "a{color:#0055a0}code{background:#f4f4f4;padding:0 3px}"
)

# Optional behaviour: the course filter hides the other courses' sections and rows; a
# click on a column heading of a sortable table sorts it (numbers as numbers).
_SCRIPT = """
(function () {
  var filter = document.getElementById('course-filter');
  if (filter) {
    filter.addEventListener('change', function () {
      var chosen = filter.value;
      document.querySelectorAll('[data-course]').forEach(function (el) {
        var course = el.getAttribute('data-course');
        el.hidden = chosen !== 'all' && course !== chosen;
      });
    });
  }
  function value(cell) {
    var text = (cell && cell.textContent || '').trim();
    var n = parseFloat(text.replace(/,/g, ''));
    return isNaN(n) || !/^[-0-9.,%]+/.test(text) ? text.toLowerCase() : n;
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var body = table.tBodies[0];
    table.querySelectorAll('thead th').forEach(function (th, column) {
      th.addEventListener('click', function () {
        var down = th.getAttribute('aria-sort') === 'ascending';
        table.querySelectorAll('thead th').forEach(function (o) {
          o.removeAttribute('aria-sort');
        });
        th.setAttribute('aria-sort', down ? 'descending' : 'ascending');
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = value(a.cells[column]), y = value(b.cells[column]);
          var order = x < y ? -1 : x > y ? 1 : 0;
          return down ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
"""
