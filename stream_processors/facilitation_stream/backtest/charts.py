"""The report's charts: Vega-Lite specifications built with Altair, rendered to static SVG
offline by vl-convert (its own bundled Vega, no network, no browser), so the report is one
file that opens anywhere without scripts from elsewhere.

Choices a reader relies on: time bins chosen from the span (days up to ten weeks, weeks up
to two years, months beyond), titles on both axes, a capacity mark on tutor load, and
colours that keep at least 3:1 contrast on white and stay apart for colour-blind readers
(Okabe-Ito hues, darkened); a rule keeps its colour in every chart. Data are aggregated
here, in Python, so a chart holds tens of values, not a log's worth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from typing import Any

from facilitation_rules.contract.alerts import Alert
from facilitation_stream.backtest.outcomes import SlaShare, TutorLoad

#: At least 3:1 against white (WCAG 1.4.11 for graphics); tests check it.
PALETTE = (
    "#0072B2",  # blue
    "#C24E00",  # orange
    "#007A5A",  # green
    "#A3467F",  # purple
    "#6B5B00",  # olive
    "#4B4B9E",  # indigo
    "#B3262E",  # red
    "#555555",  # grey
)
#: Every rule the engine fires, in a fixed order: a rule keeps its colour across charts.
RULES = (
    "unanswered_post",
    "unanswered_post.warning",
    "unanswered_post.escalation",
    "silent_learner.never_posted",
    "silent_learner.went_quiet",
    "dropout_risk",
    "reflection.overdue",
    "reflection.no_peer_response",
)
REPLY_BUCKETS = (
    (1, "under 1 h"),
    (3, "1-3 h"),
    (6, "3-6 h"),
    (12, "6-12 h"),
    (24, "12-24 h"),
    (48, "1-2 days"),
    (96, "2-4 days"),
    (float("inf"), "over 4 days"),
)
_WIDTH = 620
# vl-convert measures text with the fonts it finds, the browser draws with its own: a wide
# font first (and the page lets an SVG overflow) so no label is clipped where they differ.
_FONT = "DejaVu Sans, Verdana, Arial, sans-serif"


def _rule_scale(rules: Sequence[str]) -> Any:
    import altair as alt

    known = [r for r in RULES if r in rules] + sorted(set(rules) - set(RULES))
    colours = [PALETTE[(RULES.index(r) if r in RULES else 7) % len(PALETTE)] for r in known]
    return alt.Scale(domain=known, range=colours)


def svg(chart: Any) -> str:
    """One chart as inline SVG (vl-convert renders it with its bundled Vega)."""
    import vl_convert

    spec = chart.configure(font=_FONT).configure_view(stroke=None).to_dict()
    rendered: str = vl_convert.vegalite_to_svg(spec)
    return rendered.replace("<svg ", '<svg role="img" ', 1)


def time_bins(first: date, last: date) -> str:
    """The bin for a span: days up to ten weeks, weeks up to two years, else months."""
    span = (last - first).days
    if span <= 70:
        return "day"
    if span <= 730:
        return "week"
    return "month"


def _bin_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _bins(first: date, last: date, unit: str) -> list[date]:
    """Every bin from the first to the last, empty ones too: a quiet week shows as one."""
    found, day = [], _bin_start(first, unit)
    while day <= last:
        found.append(day)
        if unit == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=7 if unit == "week" else 1)
    return found


def alerts_over_time(alerts: Sequence[Alert]) -> tuple[str, str] | None:
    """Stacked bars of alerts fired per bin, by rule; (svg, the bin's name) or None."""
    import altair as alt

    shown = [a for a in alerts if a.action == "fire"]
    if not shown:
        return None
    days = sorted(a.fired_at.astimezone(UTC).date() for a in shown)
    unit = time_bins(days[0], days[-1])
    counts = Counter((_bin_start(a.fired_at.astimezone(UTC).date(), unit), a.rule) for a in shown)
    values = [
        {"bin": start.isoformat(), "rule": rule, "alerts": n}
        for (start, rule), n in sorted(counts.items())
    ]
    first_rule = min(rule for _, rule in counts)
    used = {start for start, _ in counts}
    values += [
        {"bin": start.isoformat(), "rule": first_rule, "alerts": 0}
        for start in _bins(days[0], days[-1], unit)
        if start not in used
    ]
    values.sort(key=lambda v: str(v["bin"]))
    fmt = {"day": "%d %b", "week": "%d %b %Y", "month": "%b %Y"}[unit]
    title = {"day": "Day", "week": "Week (starting Monday)", "month": "Month"}[unit]
    rules = sorted({rule for _, rule in counts})
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=alt.X(
                "bin:O",
                title=f"{title} (UTC)",
                sort=None,
                axis=alt.Axis(
                    labelExpr=f"timeFormat(toDate(datum.value), '{fmt}')",
                    labelAngle=-45,
                    labelOverlap=True,
                ),
            ),
            y=alt.Y(
                "sum(alerts):Q", title=f"Alerts fired per {unit}", axis=alt.Axis(tickMinStep=1)
            ),
            color=alt.Color(
                "rule:N", title="Rule", scale=_rule_scale(rules), legend=alt.Legend(labelLimit=260)
            ),
            tooltip=["bin:O", "rule:N", "alerts:Q"],
        )
        .properties(width=_WIDTH, height=220)
    )
    return svg(chart), unit


def tutor_load_chart(load: TutorLoad) -> str:
    """Per tutor: the most nudges open at once (bars) against the roster's capacity (a
    black tick), or the alerts assigned when capacity is unknown."""
    import altair as alt

    tutors = sorted(load.assigned)
    if load.capacity:
        values = [
            {"tutor": t, "open": load.peak[t], "capacity": load.capacity.get(t, 0)} for t in tutors
        ]
        base = alt.Chart(alt.Data(values=values)).encode(
            x=alt.X("tutor:N", title="Tutor", sort=None, axis=alt.Axis(labelAngle=0))
        )
        bars = base.mark_bar(color=PALETTE[0]).encode(
            y=alt.Y("open:Q", title="Nudges open at once (most)", axis=alt.Axis(tickMinStep=1)),
            tooltip=["tutor:N", "open:Q", "capacity:Q"],
        )
        capacity = base.mark_tick(color="#000000", thickness=3, size=36).encode(y="capacity:Q")
        chart = (bars + capacity).properties(width=_WIDTH, height=200)
    else:
        values = [{"tutor": t, "alerts": load.assigned[t]} for t in tutors]
        chart = (
            alt.Chart(alt.Data(values=values))
            .mark_bar(color=PALETTE[0])
            .encode(
                x=alt.X("tutor:N", title="Tutor", sort=None, axis=alt.Axis(labelAngle=0)),
                y=alt.Y("alerts:Q", title="Alerts assigned", axis=alt.Axis(tickMinStep=1)),
                tooltip=["tutor:N", "alerts:Q"],
            )
            .properties(width=_WIDTH, height=200)
        )
    return svg(chart)


def reply_time_chart(hours: Sequence[float], unanswered: int) -> str:
    """Watched posts by time to first reply, with the ones never answered."""
    import altair as alt

    counts = Counter(next(label for limit, label in REPLY_BUCKETS if h < limit) for h in hours)
    labels = [label for _, label in REPLY_BUCKETS] + ["no reply"]
    counts["no reply"] = unanswered
    values = [{"wait": label, "posts": counts[label]} for label in labels]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color=PALETTE[0])
        .encode(
            x=alt.X(
                "wait:N", title="Time to first reply", sort=labels, axis=alt.Axis(labelAngle=0)
            ),
            y=alt.Y("posts:Q", title="Learners' watched posts", axis=alt.Axis(tickMinStep=1)),
            tooltip=["wait:N", "posts:Q"],
        )
        .properties(width=_WIDTH, height=200)
    )
    return svg(chart)


def sla_chart(share: SlaShare) -> str:
    """Learners' first posts: within the SLA, later, never, as one stacked bar."""
    import altair as alt

    parts = (("within the SLA", share.within), ("later", share.late), ("never", share.never))
    values = [{"outcome": name, "posts": n, "order": i} for i, (name, n) in enumerate(parts)]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=alt.X("sum(posts):Q", title="Learners' first posts", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "outcome:N",
                title="Reply from someone else",
                legend=alt.Legend(labelLimit=260, titleLimit=260),
                scale=alt.Scale(
                    domain=[p[0] for p in parts], range=[PALETTE[2], PALETTE[1], PALETTE[7]]
                ),
            ),
            order=alt.Order("order:Q"),
            tooltip=["outcome:N", "posts:Q"],
        )
        .properties(width=_WIDTH, height=60)
    )
    return svg(chart)


def comparison_chart(rows: Sequence[tuple[str, int, int, int]], a: str, b: str) -> str:
    """Per rule, alerts fired only with pack A, only with B, and with both."""
    import altair as alt

    names = (f"only {a}", f"only {b}", "both")
    values = [
        {"rule": rule, "alerts": n, "side": name, "order": i}
        for rule, *counts in rows
        for i, (name, n) in enumerate(zip(names, counts, strict=True))
    ]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            y=alt.Y("rule:N", title="Rule", sort=None),
            x=alt.X("sum(alerts):Q", title="Alerts fired", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "side:N",
                title="Fired by",
                scale=alt.Scale(domain=list(names), range=[PALETTE[1], PALETTE[0], PALETTE[7]]),
            ),
            order=alt.Order("order:Q"),
            tooltip=["rule:N", "side:N", "alerts:Q"],
        )
        .properties(width=_WIDTH - 200, height=max(len(rows), 1) * 26)
    )
    return svg(chart)
