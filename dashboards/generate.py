"""Grafana dashboards as code (grafanalib), and the copies the Helm chart and docs need.

    python dashboards/generate.py          # (re)write every generated file
    python dashboards/generate.py --check  # exit 1 if a committed file is stale

Writes dashboards/facilitation.json and dashboards/pipeline-health.json, copies them and
dashboards/prometheus/alerts.yaml (the one source of the alerting rules) into the chart's
files/, and writes docs/metrics.md from the metrics catalogs. A test runs --check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

ROOT = Path(__file__).resolve().parent.parent
CHART_FILES = ROOT / "helm" / "openedx-facilitation" / "files"
ALERTS = ROOT / "dashboards" / "prometheus" / "alerts.yaml"
DS = "${datasource}"
COURSE = 'course=~"$course"'


def _target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> g.Target:
    return g.Target(
        expr=expr, legendFormat=legend, refId=ref, instant=instant, datasource=DS
    )


def _ts(title: str, targets: list[g.Target], pos: tuple[int, int, int, int], unit: str = "",
        description: str = "", **kw: object) -> g.TimeSeries:
    x, y, w, h = pos
    return g.TimeSeries(
        title=title, description=description, dataSource=DS, targets=targets, unit=unit,
        gridPos=g.GridPos(h=h, w=w, x=x, y=y), legendDisplayMode="table",
        legendPlacement="right", legendCalcs=["lastNotNull", "max"], **kw,
    )


def _stat(title: str, expr: str, pos: tuple[int, int, int, int], unit: str = "none",
          description: str = "", thresholds: list[g.Threshold] | None = None) -> g.Stat:
    x, y, w, h = pos
    return g.Stat(
        title=title, description=description, dataSource=DS,
        targets=[_target(expr, instant=True)], format=unit, reduceCalc="lastNotNull",
        gridPos=g.GridPos(h=h, w=w, x=x, y=y), graphMode="none",
        thresholds=thresholds or [g.Threshold("green", 0, 0.0)],
    )


def _variables(*extra: g.Template) -> g.Templating:
    datasource = g.Template(
        name="datasource", label="Data source", query="prometheus", type="datasource"
    )
    return g.Templating(list=[datasource, *extra])


def _dashboard(title: str, uid: str, description: str, panels: list[g.Panel],
               templating: g.Templating) -> g.Dashboard:
    return g.Dashboard(
        title=title, uid=uid, description=description, tags=["openedx-facilitation"],
        timezone="utc", refresh="1m", time=g.Time("now-24h", "now"), panels=panels,
        templating=templating, graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
    ).auto_panel_ids()


def facilitation_dashboard() -> g.Dashboard:
    """For course teams: are learner posts answered in time, and are the nudges useful."""
    course = g.Template(
        name="course", label="Course", dataSource=DS, includeAll=True, multi=True,
        query="label_values(facilitation_learner_posts_total, course)", default="$__all",
    )
    breaches = f"sum by (course) (increase(facilitation_sla_breaches_total{{{COURSE}}}[$__range]))"
    posts = f"sum by (course) (increase(facilitation_learner_posts_total{{{COURSE}}}[$__range]))"
    ttfr = f"facilitation_time_to_first_reply_seconds_bucket{{{COURSE}}}"
    resolved = "sum by (rule) (increase(facilitation_nudges_resolved_total[$__range]))"
    not_useful = "sum by (rule) (increase(facilitation_nudges_not_useful_total[$__range]))"
    red_amber_green = [
        g.Threshold("red", 0, 0.0), g.Threshold("orange", 1, 0.8), g.Threshold("green", 2, 0.95)
    ]
    panels: list[g.Panel] = [
        _stat(
            "SLA compliance", f"1 - sum({breaches}) / sum({posts})", (0, 0, 6, 5),
            unit="percentunit", thresholds=red_amber_green,
            description="Share of learner posts answered within the reply SLA, over the range.",
        ),
        _stat(
            "Median time to first reply",
            f"histogram_quantile(0.5, sum by (le) (increase({ttfr}[$__range])))",
            (6, 0, 6, 5), unit="s",
        ),
        _stat("Open nudges", "sum(facilitation_open_nudges)", (12, 0, 6, 5)),
        _stat(
            "Nudges marked not useful",
            "sum(increase(facilitation_nudges_not_useful_total[$__range]))", (18, 0, 6, 5),
        ),
        _ts(
            "SLA compliance by course (6 h window)",
            [_target(
                f"1 - sum by (course) (increase(facilitation_sla_breaches_total{{{COURSE}}}[6h]))"
                f" / sum by (course) (increase(facilitation_learner_posts_total{{{COURSE}}}[6h]))",
                "{{course}}",
            )],
            (0, 5, 12, 8), unit="percentunit",
            description="1 - SLA breaches / learner posts. Breaches count when the SLA runs out.",
        ),
        _ts(
            "Time to first reply (p50, p90)",
            [
                _target(f"histogram_quantile(0.5, sum by (le, course) (rate({ttfr}[1h])))",
                        "p50 {{course}}", "A"),
                _target(f"histogram_quantile(0.9, sum by (le, course) (rate({ttfr}[1h])))",
                        "p90 {{course}}", "B"),
            ],
            (12, 5, 12, 8), unit="s",
        ),
        _ts(
            "Open nudges per tutor",
            [_target("sum by (tutor) (facilitation_open_nudges)", "{{tutor}}")],
            (0, 13, 12, 8), description="Waiting or claimed nudges in each tutor's queue.",
        ),
        _ts(
            "Nudge age at claim and at resolve (p50)",
            [
                _target("histogram_quantile(0.5, sum by (le, rule) "
                        "(rate(facilitation_nudge_age_at_claim_seconds_bucket[1h])))",
                        "claim {{rule}}", "A"),
                _target("histogram_quantile(0.5, sum by (le, rule) "
                        "(rate(facilitation_nudge_age_at_resolve_seconds_bucket[1h])))",
                        "resolve {{rule}}", "B"),
            ],
            (12, 13, 12, 8), unit="s",
        ),
        g.BarGauge(
            title="Rule precision (resolved / (resolved + not useful))",
            description="Tutor feedback: a nudge resolved was useful, one dismissed was not.",
            dataSource=DS, targets=[_target(
                f"{resolved} / ({resolved} + {not_useful})", "{{rule}}", instant=True
            )],
            format="percentunit", min=0, max=1, orientation="horizontal", calc="lastNotNull",
            thresholds=red_amber_green, gridPos=g.GridPos(h=8, w=12, x=0, y=21),
        ),
        _ts(
            "Alerts fired per hour by rule and severity",
            [_target("sum by (rule, severity) (increase(facilitation_alerts_fired_total[1h]))",
                     "{{rule}} {{severity}}")],
            (12, 21, 12, 8),
        ),
    ]
    return _dashboard(
        "Facilitation", "facilitation-outcomes",
        "Reply SLA, time to first reply, tutor load and rule precision.",
        panels, _variables(course),
    )


def pipeline_dashboard() -> g.Dashboard:
    """For operators: is the pipeline flowing, keeping up and healthy."""
    panels: list[g.Panel] = [
        _stat("Workers ready", "sum(facilitation_worker_ready)", (0, 0, 6, 5),
              thresholds=[g.Threshold("red", 0, 0.0), g.Threshold("green", 1, 1.0)]),
        _stat("Consumer lag (messages)", "sum(facilitation_consumer_lag)", (6, 0, 6, 5),
              thresholds=[g.Threshold("green", 0, 0.0), g.Threshold("orange", 1, 1000.0)]),
        _stat("Dead-lettered (1 h)",
              "sum(increase(facilitation_events_dead_lettered_total[1h]))", (12, 0, 6, 5),
              thresholds=[g.Threshold("green", 0, 0.0), g.Threshold("orange", 1, 10.0)]),
        _stat("Time since last event", "time() - max(facilitation_last_event_timestamp_seconds)",
              (18, 0, 6, 5), unit="s"),
        _ts(
            "Events consumed per second by type",
            [_target("sum by (event_type) (rate(facilitation_events_consumed_total[5m]))",
                     "{{event_type}}")],
            (0, 5, 12, 8), unit="ops",
        ),
        _ts(
            "Alerts fired and nudges enqueued per second",
            [
                _target("sum(rate(facilitation_alerts_fired_total[5m]))", "alerts fired", "A"),
                _target("sum(rate(facilitation_nudges_enqueued_total[5m]))", "nudges", "B"),
            ],
            (12, 5, 12, 8), unit="ops",
        ),
        _ts(
            "Consumer lag by topic",
            [_target("sum by (topic) (facilitation_consumer_lag)", "{{topic}}")],
            (0, 13, 12, 8),
        ),
        _ts(
            "Malformed and dead-lettered per second by reason",
            [
                _target("sum by (reason) (rate(facilitation_events_malformed_total[5m]))",
                        "malformed {{reason}}", "A"),
                _target("sum by (reason) (rate(facilitation_events_dead_lettered_total[5m]))",
                        "dead-lettered {{reason}}", "B"),
            ],
            (12, 13, 12, 8), unit="ops",
        ),
        _ts(
            "Recovery and rebalances",
            [
                _target("sum(facilitation_worker_ready)", "ready workers", "A"),
                _target("sum(facilitation_recovering)", "recovering", "B"),
                _target("sum(facilitation_rebalancing)", "rebalancing", "C"),
                _target("sum(increase(facilitation_rebalances_total[10m]))",
                        "rebalances / 10 min", "D"),
                _target("sum(facilitation_assigned_partitions)", "assigned partitions", "E"),
            ],
            (0, 21, 12, 8),
        ),
        _ts(
            "Rule evaluation time (p99)",
            [_target("histogram_quantile(0.99, sum by (le, rule) "
                     "(rate(facilitation_rule_evaluation_seconds_bucket[5m])))", "{{rule}}")],
            (12, 21, 12, 8), unit="s",
        ),
        _ts(
            "LMS outbox: depth and oldest event age",
            [
                _target("max by (instance) (facilitation_xblock_outbox_depth)",
                        "depth {{instance}}", "A"),
                _target("max by (instance) (facilitation_xblock_outbox_oldest_age_seconds)",
                        "oldest age (s) {{instance}}", "B"),
            ],
            (0, 29, 12, 8),
        ),
        _ts(
            "Delivery and notification failures per second",
            [
                _target("sum by (reason) (rate(facilitation_xblock_delivery_failures_total[5m]))",
                        "outbox {{reason}}", "A"),
                _target("sum by (channel) (rate(facilitation_notifications_failed_total[5m]))",
                        "notify {{channel}}", "B"),
            ],
            (12, 29, 12, 8), unit="ops",
        ),
        _ts(
            "Alert sink (tutor queues) up, and its failed attempts per second",
            [
                _target("min by (instance) (facilitation_alert_sink_up)", "up {{instance}}", "A"),
                _target("sum by (reason) (rate(facilitation_alert_sink_failures_total[5m]))",
                        "failed {{reason}}", "B"),
            ],
            (0, 37, 12, 8),
        ),
        _ts(
            "Re-published events recognised as duplicates per second",
            [_target("sum by (recognised_by) (rate(facilitation_events_duplicate_total[5m]))",
                     "{{recognised_by}}")],
            (12, 37, 12, 8), unit="ops",
        ),
    ]
    return _dashboard(
        "Facilitation pipeline health", "facilitation-pipeline",
        "Throughput, consumer lag, dead letters, recovery and the LMS outbox.",
        panels, _variables(),
    )


DASHBOARDS = {"facilitation.json": facilitation_dashboard,
              "pipeline-health.json": pipeline_dashboard}


def dashboard_json(dashboard: g.Dashboard) -> str:
    data = dashboard.to_json_data()
    return json.dumps(data, sort_keys=True, indent=2, cls=DashboardEncoder) + "\n"


def metrics_doc() -> str:
    """docs/metrics.md from both catalogs (engine and XBlock outbox)."""
    from prometheus_client import CollectorRegistry

    from facilitation_stream.metrics import REASONS, Metrics
    from facilitation_xblocks.outbox.metrics import XBlockMetrics

    lines = [
        "# Metrics catalog",
        "",
        "Generated by `python dashboards/generate.py` from",
        "`facilitation_stream/metrics.py` (worker, router, tutor API, notifiers) and",
        "`facilitation_xblocks/outbox/metrics.py` (the LMS outbox). Do not edit by hand.",
        "",
        "No metric carries learner, post, thread or alert ids. `reason` is one of: "
        + ", ".join(f"`{r}`" for r in sorted(REASONS)) + ".",
        "",
        "Use: `metrics = get_metrics()` (the process-wide catalog on the default registry) or",
        "`Metrics(CollectorRegistry())` in tests; `metrics.alerts_fired.labels(rule=...,",
        "severity=...).inc()`. Serve them with `start_metrics_server(port)` or, inside a web",
        "app, `body, content_type = exposition()`. Dashboards and alert rules may only use",
        "names from this page (a test checks it).",
        "",
    ]
    for title, catalog in (("Engine", Metrics), ("LMS outbox (XBlock side)", XBlockMetrics)):
        lines += [f"## {title}", "", "| name | type | labels | meaning |", "|---|---|---|---|"]
        instance = catalog(CollectorRegistry())
        for metric in vars(instance).values():
            name = getattr(metric, "_name", None)
            if name is None:
                continue
            kind = metric._type
            shown = f"{name}_total" if kind == "counter" else name
            labels = ", ".join(f"`{label}`" for label in metric._labelnames) or "-"
            lines.append(f"| `{shown}` | {kind} | {labels} | {metric._documentation} |")
        lines.append("")
    return "\n".join(lines)


def render() -> dict[Path, str]:
    """Every generated file and its content."""
    out: dict[Path, str] = {}
    for filename, build in DASHBOARDS.items():
        text = dashboard_json(build())
        out[ROOT / "dashboards" / filename] = text
        out[CHART_FILES / "dashboards" / filename] = text
    out[CHART_FILES / "prometheus" / "alerts.yaml"] = ALERTS.read_text()
    out[ROOT / "docs" / "metrics.md"] = metrics_doc()
    return out


def stale(files: dict[Path, str]) -> list[Path]:
    return [p for p, text in files.items() if not p.exists() or p.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args(argv)
    files = render()
    if args.check:
        for path in stale(files):
            print(f"stale: {path.relative_to(ROOT)} (run python dashboards/generate.py)")
        return 1 if stale(files) else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
