"""The backtest report: one self-contained HTML file (inline SVG, no scripts, no CDN).

Plots: alerts per day by rule; per-tutor load when a roster is given (alerts routed with the
roster's policies, as the router would); the time-to-first-reply distribution of learners'
watched posts; the share of learners' first posts answered within the SLA.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from facilitation_rules.contract.alerts import Alert
from facilitation_rules.engine.detectors.posts import sla_for
from facilitation_rules.packs.loader import Pack
from facilitation_rules.state import PostState
from facilitation_stream.backtest.ordered_input import ReplayRun

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
REPLY_BUCKETS = (
    (1, "< 1 h"),
    (3, "1-3 h"),
    (6, "3-6 h"),
    (12, "6-12 h"),
    (24, "12-24 h"),
    (48, "1-2 days"),
    (96, "2-4 days"),
    (float("inf"), "> 4 days"),
)


class TutorList:
    """A plain list of tutor ids (the fallback roster): alerts are dealt round-robin."""

    def __init__(self, tutors: Sequence[str]) -> None:
        if not tutors:
            raise ValueError("the roster names no tutors")
        self.tutors = list(tutors)


def load_roster(path: str) -> Any:
    """A roster YAML (``facilitation_rules.routing.roster``), or a YAML list / text file of
    tutor ids."""
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


def render_report(run: ReplayRun, pack: Pack, roster: Any | None) -> str:
    alerts = run.alerts
    posts = [s for k, s in sorted(run.replayer.states.items()) if k[0] == "P"]
    sections = [
        _summary_table(alerts),
        _section("Alerts per day, by rule", _alerts_per_day(alerts)),
    ]
    if roster is not None:
        sections.append(_section("Per-tutor load", _tutor_load(alerts, roster)))
    sections.append(
        _section(
            "Time to first reply (learners' watched posts)",
            _reply_times([p for p in posts if p.tracked]),
        )
    )
    sections.append(
        _section("Learners' first posts answered within the SLA", _first_posts(posts, pack))
    )
    until = datetime.fromtimestamp(run.until, UTC).isoformat().replace("+00:00", "Z")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Facilitation backtest: {_e(pack.name)}</title><style>{_CSS}</style></head>"
        f"<body><h1>Facilitation backtest</h1><p>Rule pack <b>{_e(pack.name)}</b>, "
        f"{run.fed:,} events, clock advanced to {until}.</p>"
        + "".join(sections)
        + "</body></html>\n"
    )


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:980px;color:#222}"
    "table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}"
    "th:first-child,td:first-child{text-align:left}svg{display:block;margin:1em 0}"
    ".legend span{display:inline-block;margin-right:1em}.sw{width:10px;height:10px;"
    "display:inline-block;margin-right:4px}"
)


def _e(text: object) -> str:
    return html.escape(str(text))


def _section(title: str, body: str) -> str:
    return f"<h2>{_e(title)}</h2>{body}"


def _summary_table(alerts: list[Alert]) -> str:
    fired = Counter(a.rule for a in alerts if a.action == "fire")
    resolved = Counter(a.rule for a in alerts if a.action == "resolve")
    rows = (
        "".join(
            f"<tr><td>{_e(rule)}</td><td>{fired[rule]:,}</td><td>{resolved[rule]:,}</td></tr>"
            for rule in sorted(fired | resolved)
        )
        or "<tr><td colspan=3>no alerts</td></tr>"
    )
    return f"<table><tr><th>rule</th><th>fired</th><th>resolved</th></tr>{rows}</table>"


def _legend(names: Sequence[str]) -> str:
    items = "".join(
        f"<span><i class=sw style='background:{PALETTE[i % len(PALETTE)]}'></i>{_e(n)}</span>"
        for i, n in enumerate(names)
    )
    return f"<div class=legend>{items}</div>"


def bar_chart(
    labels: Sequence[str],
    series: dict[str, list[float]],
    *,
    width: int = 900,
    height: int = 260,
    label_every: int = 1,
) -> str:
    """A stacked bar chart as inline SVG: one bar per label, one colour per series."""
    names = list(series)
    totals = [sum(series[n][i] for n in names) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    left, bottom, plot_h = 40, 40, height - 50
    slot = (width - left - 10) / max(len(labels), 1)
    bar = max(slot * 0.8, 1)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width={width} height={height} "
        f"role=img><line x1={left} y1={plot_h + 5} x2={width} y2={plot_h + 5} stroke=#888 />",
        f"<text x={left - 4} y=14 font-size=11 text-anchor=end>{top:g}</text>",
        f"<text x={left - 4} y={plot_h + 5} font-size=11 text-anchor=end>0</text>",
    ]
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar) / 2
        y = plot_h + 5.0
        for j, name in enumerate(names):
            value = series[name][i]
            if value <= 0:
                continue
            h = value / top * (plot_h - 10)
            y -= h
            parts.append(
                f"<rect x={x:.1f} y={y:.1f} width={bar:.1f} height={h:.1f} "
                f"fill='{PALETTE[j % len(PALETTE)]}'><title>{_e(label)} {_e(name)}: "
                f"{value:g}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f"<text x={x + bar / 2:.1f} y={height - bottom + 25} font-size=10 "
                f"text-anchor=middle>{_e(label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts) + (_legend(names) if len(names) > 1 else "")


def _alerts_per_day(alerts: list[Alert]) -> str:
    fired = [a for a in alerts if a.action == "fire"]
    if not fired:
        return "<p>No alerts fired.</p>"
    days = sorted({a.fired_at.date() for a in fired})
    first, last = days[0], days[-1]
    labels = [
        first.fromordinal(d).isoformat() for d in range(first.toordinal(), last.toordinal() + 1)
    ]
    index = {label: i for i, label in enumerate(labels)}
    series: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(labels))
    for a in fired:
        series[a.rule][index[a.fired_at.date().isoformat()]] += 1
    ordered = {name: series[name] for name in sorted(series)}
    return bar_chart(labels, ordered, label_every=max(len(labels) // 12, 1))


def _tutor_load(alerts: list[Alert], roster: Any) -> str:
    assigned: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    owner: dict[str, str] = {}
    opened = [a for a in alerts if not a.rule.endswith(".warning")]
    note = ""
    if isinstance(roster, TutorList):
        note = "<p>Plain tutor list: alerts dealt round-robin.</p>"
        tutors = roster.tutors
        for i, a in enumerate(x for x in opened if x.action == "fire"):
            owner[a.alert_id] = tutors[i % len(tutors)]
            assigned[owner[a.alert_id]] += 1
    else:
        from facilitation_rules.routing.assignment import Load, NoTutor, Request, assign

        tutors = [t.tutor_id for t in roster.tutors]
        open_now: Counter[str] = Counter()
        recent: Counter[str] = Counter()
        cursors: Counter[str] = Counter()
        by_learner: dict[str, str] = {}
        for a in opened:
            if a.action == "resolve":
                tutor = owner.pop(a.alert_id, None)
                if tutor:
                    open_now[tutor] -= 1
                continue
            loads = {t: Load(open=open_now[t], recent=recent[t]) for t in tutors}
            learner = f"{a.course_id}|{a.learner_id}"
            try:
                decision = assign(
                    roster,
                    Request.from_alert(a),
                    a.fired_at,
                    loads=loads,
                    affinity=[by_learner[learner]] if learner in by_learner else [],
                    cursor=cursors[a.rule],
                )
            except NoTutor:
                continue
            cursors[a.rule] += 1
            tutor = owner[a.alert_id] = by_learner[learner] = decision.tutor_id
            assigned[tutor] += 1
            recent[tutor] += 1
            open_now[tutor] += 1
            peak[tutor] = max(peak[tutor], open_now[tutor])
    labels = sorted(set(tutors) | set(assigned))
    chart = bar_chart(labels, {"alerts assigned": [float(assigned[t]) for t in labels]}, height=220)
    rows = "".join(
        f"<tr><td>{_e(t)}</td><td>{assigned[t]:,}</td><td>{peak[t]:,}</td></tr>" for t in labels
    )
    table = f"<table><tr><th>tutor</th><th>alerts</th><th>most open at once</th></tr>{rows}</table>"
    return note + chart + table


def _reply_times(posts: list[PostState]) -> str:
    if not posts:
        return "<p>No learner posts were watched.</p>"
    counts = [0.0] * (len(REPLY_BUCKETS) + 1)
    for p in posts:
        if p.answered_at is None:
            counts[-1] += 1
            continue
        hours = (p.answered_at - p.created) / 3600
        counts[next(i for i, (limit, _) in enumerate(REPLY_BUCKETS) if hours < limit)] += 1
    labels = [label for _, label in REPLY_BUCKETS] + ["no reply"]
    answered = sorted(
        (p.answered_at - p.created) / 3600 for p in posts if p.answered_at is not None
    )
    median = f"{answered[len(answered) // 2]:.1f} h" if answered else "n/a"
    return (
        f"<p>{len(posts):,} posts; {len(answered):,} answered; median time to first reply "
        f"{median}.</p>" + bar_chart(labels, {"posts": counts}, height=220)
    )


def _first_posts(posts: list[PostState], pack: Pack) -> str:
    first: dict[tuple[str, str], PostState] = {}
    for p in posts:
        if p.author_role != "learner":
            continue
        key = (p.course_id, p.author_id)
        if key not in first or (p.created, p.post_id) < (first[key].created, first[key].post_id):
            first[key] = p
    if not first:
        return "<p>No learner posts.</p>"
    within = late = never = 0
    for p in first.values():
        rules = pack.rules_for(p.course_id) or pack.rules
        cfg = rules.unanswered
        calendar = rules.calendar if cfg.business_hours else None
        sla = sla_for(p, cfg)
        deadline = calendar.add(p.created, sla) if calendar else p.created + sla
        if p.answered_at is None:
            never += 1
        elif p.answered_at <= deadline:
            within += 1
        else:
            late += 1
    total = within + late + never
    share = within / total
    chart = bar_chart(
        ["first posts"],
        {"within the SLA": [within], "later": [late], "never": [never]},
        width=300,
        height=220,
    )
    return (
        f"<p><b>{share:.0%}</b> of {total:,} learners' first posts got a reply from someone "
        f"else within the SLA; {late:,} later; {never:,} never.</p>" + chart
    )
