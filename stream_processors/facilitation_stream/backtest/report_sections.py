"""The report's sections beyond the charts: a sample of alerts, the comparison of two packs,
the learners with open alerts, the pack's settings and data quality (``report_html``
assembles them). Every value is escaped; a link is made only of an http(s) URL."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.contract.codec import format_time
from facilitation_rules.packs.config import HOUR
from facilitation_rules.packs.loader import Pack
from facilitation_stream.backtest import charts
from facilitation_stream.backtest.comparison import compare, share_text, subject
from facilitation_stream.backtest.ordered_input import ReplayRun
from facilitation_stream.backtest.outcomes import learner_rows
from facilitation_stream.ingest.read_stats import (
    FUTURE,
    LMS_TRUNCATED,
    MALFORMED,
    TOO_LONG,
    UNREADABLE,
    ReadStats,
)

#: Alerts shown per rule in a course's sample.
SAMPLE_PER_RULE = 2
#: Learners listed per course in the report (``facilitation learners`` writes every one).
LEARNERS_SHOWN = 200
#: Differences shown per rule and side in the comparison.
DIFFERENCES_SHOWN = 5
_CATEGORY_WORDS = {
    MALFORMED: "malformed",
    TOO_LONG: "too long",
    FUTURE: "ahead of the clock (from the future)",
    LMS_TRUNCATED: "cut by the LMS and unusable",
    UNREADABLE: "unreadable files",
}


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def link(url: object, text: str = "open") -> str:
    """A link only to an http(s) URL (a log may hold ``javascript:``); else nothing."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return f"<a href='{e(url)}' rel=noopener>{e(text)}</a>"
    return ""


def _who(learner_id: str, usernames: dict[str, str]) -> str:
    name = usernames.get(learner_id)
    return f"{name} ({learner_id})" if name else learner_id


# -- A sample of alerts --------------------------------------------------------------------


def alerts_sample(alerts: Sequence[Alert], usernames: dict[str, str]) -> str:
    """The first few alerts of each rule, with their reasons and a link to the post."""
    by_rule: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        if a.action == "fire" and len(by_rule[a.rule]) < SAMPLE_PER_RULE:
            by_rule[a.rule].append(a)
    if not by_rule:
        return ""
    rows = "".join(
        f"<tr><td class=text>{e(format_time(a.fired_at)[:16].replace('T', ' '))}</td>"
        f"<td class=text>{e(a.rule)}</td><td class=text>{e(_who(a.learner_id, usernames))}</td>"
        f"<td class='text wide'>{e(subject(a))}: {e('; '.join(a.reasons))}</td>"
        f"<td class=text>{link(a.details.get('url'))}</td></tr>"
        for rule in sorted(by_rule)
        for a in by_rule[rule]
    )
    return (
        f"<h3>A sample of alerts (the first {SAMPLE_PER_RULE} of each rule)</h3>"
        "<table class='sortable compact'><thead><tr><th class=text>fired (UTC)</th>"
        "<th class=text>rule</th><th class=text>learner</th><th class=text>about, and why"
        "</th><th class=text>link</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


# -- Comparison ----------------------------------------------------------------------------


def comparison_section(a: ReplayRun, b: ReplayRun) -> str:
    result = compare(a, b)
    name_a, name_b = result.name_a, result.name_b
    parts = [
        f"<section id=comparison><h2>Comparison: {e(name_a)} (A) and {e(name_b)} (B)</h2>"
        "<p>The same log replayed with each pack. An alert is the same in both when its id "
        "is: rule, course, subject and episode, never the time it fired.</p>"
    ]
    for diff in [*result.courses, result.total]:
        if diff.course_id is None and len(result.courses) < 2:
            continue
        course = diff.course_id or "all courses"
        rows = [(r.rule, len(r.only_a), len(r.only_b), r.both) for r in diff.rules]
        table = "".join(
            f"<tr><td>{e(rule)}</td><td>{x:,}</td><td>{y:,}</td><td>{z:,}</td></tr>"
            for rule, x, y, z in rows
        )
        (load_a, load_b), (week_a, week_b) = diff.load, diff.per_week
        sla_a, sla_b = diff.sla
        parts.append(
            f"<div data-course='{e(diff.course_id or 'all')}'><h3>{e(course)}</h3>"
            "<table class=sortable><thead><tr><th>rule</th><th>only A</th><th>only B</th>"
            f"<th>both</th></tr></thead><tbody>{table}</tbody></table>"
            f"<p>Tutor load: {load_a:,} nudges with A, {load_b:,} with B ({week_a:,.1f} and "
            f"{week_b:,.1f} a week). First posts answered within the SLA: A "
            f"{e(share_text(sla_a))}, B {e(share_text(sla_b))}.</p>"
        )
        if rows:
            parts.append(charts.comparison_chart(rows, "A", "B"))
        for r in diff.rules:
            for side, alerts in (("A", r.only_a), ("B", r.only_b)):
                if not alerts:
                    continue
                items = "".join(
                    f"<li>{e(subject(x))}: {e('; '.join(x.reasons))} {link(x.details.get('url'))}"
                    "</li>"
                    for x in alerts[:DIFFERENCES_SHOWN]
                )
                more = len(alerts) - DIFFERENCES_SHOWN
                tail = f"<li>and {more:,} more</li>" if more > 0 else ""
                parts.append(f"<p>Only {side}, {e(r.rule)}:</p><ul>{items}{tail}</ul>")
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


# -- Learners -----------------------------------------------------------------------------


def learners_section(run: ReplayRun, usernames: dict[str, str]) -> str:
    """Per course, the learners with an alert open when the clock stopped, highest risk
    first (a sortable table each)."""
    rows = [r for r in learner_rows(run, run.until, usernames) if r.open_alerts]
    parts = [
        "<section id=learners><h2>Learners with open alerts</h2>"
        f"<p>{len(rows):,} learners had an alert open when the clock stopped. Click a "
        "heading to sort; <code>facilitation learners</code> writes every enrolled learner "
        "as CSV.</p>"
    ]
    by_course: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_course[r.course_id].append(r)
    for course in sorted(by_course):
        found = sorted(by_course[course], key=lambda r: (-float(r.risk_score or 0), r.learner_id))
        shown = found[:LEARNERS_SHOWN]
        body = "".join(
            f"<tr><td class=text>{e(r.username)}</td><td class=text>{e(r.learner_id)}</td>"
            f"<td class=nowrap>{e(r.last_active_at[:10])}</td><td>{e(r.risk_score)}</td>"
            f"<td class=text>{e(', '.join(r.open_alerts))}</td>"
            f"<td class='text wide'>{e('; '.join(r.reasons))}</td></tr>"
            for r in shown
        )
        more = (
            f"<p>The {LEARNERS_SHOWN:,} at highest risk of {len(found):,} are listed.</p>"
            if len(found) > len(shown)
            else ""
        )
        parts.append(
            f"<div data-course='{e(course)}'><h3>{e(course)}: {len(found):,} learners</h3>"
            "<table class='sortable compact learners'><thead><tr><th class=text>username</th>"
            "<th class=text>learner id</th><th class=text>last active</th><th>risk</th>"
            "<th class=text>open alerts</th><th class=text>reasons</th></tr></thead>"
            f"<tbody>{body}</tbody></table>{more}</div>"
        )
    return "".join(parts) + "</section>"


# -- Pack settings ------------------------------------------------------------------------


def _hours(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds / HOUR:g} h"


def _settings(pack: Pack, source: str) -> list[tuple[str, str, str]]:
    """(group, setting, value) of what a course lead tunes in ``pack``."""
    r = pack.rules
    u, s, d, f = r.unanswered, r.silent, r.dropout, r.reflection
    target = pack.applies_to
    applies = "all courses" if target == "all" else ", ".join(
        f"{k}: {v}" for k, v in dict(target).items()  # type: ignore[arg-type]
    )  # fmt: skip
    on = {True: "on", False: "off"}
    rows = [
        ("pack", "name", pack.name),
        ("pack", "file", source),
        ("pack", "applies to", applies),
        ("pack", "course start / end", f"{_when(r.course_start)} / {_when(r.course_end)}"),
        ("unanswered_post", "enabled", on[u.enabled]),
        ("unanswered_post", "reply due within (SLA)", _hours(u.sla)),
        ("unanswered_post", "questions: reply due within", _hours(u.question_sla or u.sla)),
        ("unanswered_post", "warning at", "none" if u.warn_at is None else f"{u.warn_at:.0%}"),
        ("unanswered_post", "escalation after the breach", _hours(u.escalate_after)),
        ("unanswered_post", "replies that count", u.replies_from),
        ("unanswered_post", "business hours only", on[u.business_hours]),
        ("silent_learner", "enabled", on[s.enabled]),
        ("silent_learner", "never posted by day", str(s.never_posted_days or "off")),
        ("silent_learner", "went quiet after days", str(s.went_quiet_days or "off")),
        ("dropout_risk", "enabled", on[d.enabled]),
        ("dropout_risk", "threshold", f"{d.threshold:g}"),
        ("dropout_risk", "inactive at least (days)", f"{d.min_inactive_days:g}"),
        ("reflection", "enabled", on[f.enabled]),
        ("reflection", "prompts", str(len(f.prompts))),
        ("reflection", "peer response within (days)", str(f.peer_response_days or "off")),
    ]
    texts = {c.label: c.text for c in pack.conditions()}
    for rule in ("unanswered_post", "silent_learner", "dropout_risk", "reflection"):
        rows.append((rule, "when:", texts.get(f"rules.{rule}.when", "")))
    rows.append(("reflection", "when_shared:", texts.get("rules.reflection.when_shared", "")))
    groups = ["pack", "unanswered_post", "silent_learner", "dropout_risk", "reflection"]
    return sorted(rows, key=lambda row: groups.index(row[0]))  # stable: filters last


def pack_settings(packs: Sequence[tuple[Pack, str]]) -> str:
    """The settings of one pack, or of two side by side with what changed marked."""
    columns = [_settings(pack, source) for pack, source in packs]
    heads = "".join(f"<th class=text>{'AB'[i]}</th>" for i in range(len(columns)))
    if len(columns) == 1:
        heads = "<th class=text>value</th>"
    body, group = [], ""
    for i, (where, name, _) in enumerate(columns[0]):
        values = [column[i][2] for column in columns]
        if where != group:
            group = where
            body.append(f"<tr><th class=text colspan={len(values) + 1}>{e(where)}</th></tr>")
        changed = len(set(values)) > 1
        cells = "".join(
            f"<td class=text>{'<b>' if changed else ''}{e(v or '-')}{'</b>' if changed else ''}"
            "</td>"
            for v in values
        )
        mark = " class=changed" if changed else ""
        body.append(f"<tr{mark}><td class='text sub'>{e(name)}</td>{cells}</tr>")
    note = "<p>Rows in bold differ between the two packs.</p>" if len(columns) > 1 else ""
    return (
        "<section id=settings><h2>Pack settings</h2>" + note + "<table><thead><tr>"
        f"<th class=text>setting</th>{heads}</tr></thead><tbody>{''.join(body)}</tbody>"
        "</table></section>"
    )


def _when(t: float | None) -> str:
    from datetime import UTC, datetime

    return "not set" if t is None else format_time(datetime.fromtimestamp(t, UTC))


# -- Data quality -------------------------------------------------------------------------


def data_quality(stats: ReadStats, run: ReplayRun, files: int) -> str:
    rows = [
        ("files", f"{files:,}"),
        ("records read", f"{stats.read:,}"),
        ("events", f"{stats.events:,}"),
        ("events replayed", f"{run.fed:,}"),
        ("skipped: known types standing for no event", f"{stats.ignored:,}"),
        ("skipped: unknown event types", f"{sum(stats.unknown.values()):,}"),
    ]
    rows += [
        (f"skipped: {_CATEGORY_WORDS.get(c, c)}", f"{n:,}")
        for c, n in sorted(stats.problems.items())
    ]
    if stats.lms_truncated:
        rows.append(
            ("records whose 'event' the LMS cut at 512 characters", f"{stats.lms_truncated:,}")
        )
    if run.outside_pack or run.outside_filter:
        rows.append(("events of courses the pack leaves out", f"{run.outside_pack:,}"))
        rows.append(("events of courses --course leaves out", f"{run.outside_filter:,}"))
    if run.after_until:
        rows.append(("events after --until", f"{run.after_until:,}"))
    table = "".join(f"<tr><td class=text>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in rows)
    reasons = "".join(
        f"<tr><td class=text>{e(_CATEGORY_WORDS.get(c, c))}</td><td class=text>{e(r)}</td>"
        f"<td>{n:,}</td></tr>"
        for (c, r), n in stats.reasons.most_common(30)
    )
    unknown = "".join(
        f"<tr><td class=text>{e(name)}</td><td>{n:,}</td></tr>"
        for name, n in stats.unknown.most_common(15)
    )
    listed = "".join(f"<li><code>{e(m)}</code></li>" for m in stats.malformed[:20])
    return (
        "<section id=data-quality><h2>Data quality</h2>"
        f"<table>{table}</table>"
        + (
            "<h3>Skipped lines by reason</h3><table class=sortable><thead><tr><th>category"
            f"</th><th class=text>reason</th><th>lines</th></tr></thead><tbody>{reasons}"
            "</tbody></table>"
            if reasons
            else ""
        )
        + (f"<h3>The first problem lines</h3><ul>{listed}</ul>" if listed else "")
        + (
            "<h3>Unknown event types</h3><table class=sortable><thead><tr><th>event type</th>"
            f"<th>records</th></tr></thead><tbody>{unknown}</tbody></table>"
            if unknown
            else ""
        )
        + "</section>"
    )
