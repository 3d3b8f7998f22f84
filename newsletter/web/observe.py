"""Around every web request: a request id, one log line, and the latency histogram.

The request id is the incoming `X-Request-ID` when a proxy sent a well-formed one (so nginx's and our
lines join up), else a new one; it is on every log line written while the request runs and is sent
back in `X-Request-ID`. The log line names the route (`/u/<token>`), never the path, because paths
of public links hold readers' tokens.
"""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, Response, current_app, g, request

from newsletter import logs
from newsletter.metrics import WebMetrics

log = logging.getLogger("newsletter.web.requests")
HEADER = "X-Request-ID"
# Load balancers ask these every few seconds: their lines go at DEBUG, so INFO stays readable.
QUIET_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "health.metrics"})


def metrics_of(app: Flask) -> WebMetrics:
    found: WebMetrics = app.extensions["newsletter.metrics"]
    return found


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = logs.well_formed_request_id(request.headers.get(HEADER)) or uuid.uuid4().hex
    g.request_id_token = logs.request_id.set(g.request_id)


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or "none"
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    metrics_of(current_app).observe(request.method, endpoint, response.status_code, seconds)
    level = logging.DEBUG if endpoint in QUIET_ENDPOINTS else logging.INFO
    log.log(level, "%s %s %d %.1f ms", request.method, rule, response.status_code, seconds * 1000)
    response.headers[HEADER] = g.request_id
    return response


def _forget(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            logs.request_id.reset(token)
        except ValueError:  # torn down in another context than it started: nothing of ours to undo there
            logs.request_id.set(None)


def init_observe(app: Flask) -> None:
    """Register first, so the id is set before any other hook can log."""
    app.extensions["newsletter.metrics"] = WebMetrics(app.config["NEWSLETTER_SETTINGS"])
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_forget)


__all__ = ["HEADER", "init_observe", "metrics_of"]
