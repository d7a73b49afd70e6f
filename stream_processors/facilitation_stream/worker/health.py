"""Worker health endpoints on Faust's web server.

``/live``: the event loop answers and the worker is not stuck (unread messages but no
progress for ``stall_s``). ``/ready``: tables recovered, no rebalance in progress, and
alerts reach the tutor queues — Faust's own ``/`` answers before recovery ends, so
Kubernetes must probe this one. A failing alert sink (Redis down) makes the worker unready,
not dead: a restart would not bring Redis back. ``/metrics``: the Prometheus catalog.
"""

from __future__ import annotations

import time
from typing import Any

from faust import web

from facilitation_stream.metrics import exposition


def is_ready(app: Any, worker: Any) -> tuple[bool, str]:
    if not worker.recovered:
        return False, "recovering tables"
    if app.rebalancing:
        return False, "rebalance in progress"
    if not app.tables.recovery.completed.is_set():
        return False, "recovering tables"
    return True, "ready"


def readiness(app: Any, worker: Any) -> tuple[bool, str]:
    """What ``/ready`` answers: ``is_ready`` (the worker may process), and alerts reach the
    tutor queues."""
    ok, why = is_ready(app, worker)
    if ok and worker.sink_failing_since is not None:
        failing = time.monotonic() - worker.sink_failing_since
        why = f"alerts cannot reach the tutor queues for {failing:.0f}s: {worker.sink_error}"
        return False, why
    return ok, why


def register_views(app: Any, worker: Any, metrics: Any, stall_s: float) -> None:
    @app.page("/live")
    async def live(self: web.View, request: web.Request) -> web.Response:
        stalled = worker.stalled_for(time.monotonic())
        if stalled > stall_s:
            # Unread messages and no progress: a stuck consumer is restarted, not waited on.
            return self.json(
                {"live": False, "reason": f"no progress for {stalled:.0f}s with unread messages"},
                status=503,
            )
        return self.json({"live": True})

    @app.page("/ready")
    async def ready(self: web.View, request: web.Request) -> web.Response:
        ok, why = readiness(app, worker)
        metrics.worker_ready.set(1 if ok else 0)
        return self.json(
            {"ready": ok, "reason": why, "deadlines": worker.deadlines()},
            status=200 if ok else 503,
        )

    @app.page("/metrics")
    async def prometheus(self: web.View, request: web.Request) -> web.Response:
        body, content_type = exposition(metrics.registry)
        # aiohttp refuses a charset inside content_type; the header carries it whole.
        return self.bytes(body, headers={"Content-Type": content_type})
