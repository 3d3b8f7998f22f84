"""`/healthz`, `/readyz` and `/metrics`: for load balancers and monitoring, not for people.

- `/healthz`: the process answers (nothing else is touched, so a slow database never gets a healthy
  process restarted).
- `/readyz`: the database answers and, when the service uses one, Redis does; JSON with each check,
  503 when one fails, so a load balancer sends no one to an instance that cannot serve them. What
  failed is logged; the answer, public, says only which check.
- `/metrics`: Prometheus' text format (newsletter/metrics.py), only with
  `Authorization: Bearer <NEWSLETTER_METRICS_TOKEN>`; without that setting it does not exist (404).

None of them needs a login or is ever cached.
"""

from __future__ import annotations

import hmac
import logging

import redis
from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from newsletter.db import engine_for
from newsletter.web import pages
from newsletter.web.observe import metrics_of

log = logging.getLogger(__name__)
health = Blueprint("health", __name__)


def _never_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@health.get("/healthz")
def healthz() -> Response:
    return _never_cached(jsonify(ok=True))


def _database_answers() -> bool:
    try:
        with engine_for(pages.settings().database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as error:
        log.warning("readyz: the database did not answer: %s", error)
        return False


def _redis_answers(url: str) -> bool:
    clients = current_app.extensions.setdefault("newsletter.readyz_redis", {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError) as error:
        log.warning("readyz: Redis did not answer: %s", error)
        return False


@health.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = {"database": {"ok": _database_answers()}}
    redis_url = pages.settings().redis_url
    if redis_url:
        checks["redis"] = {"ok": _redis_answers(redis_url)}
    ok = all(check["ok"] for check in checks.values())
    return _never_cached(jsonify(ok=ok, checks=checks)), 200 if ok else 503


@health.get("/metrics")
def metrics() -> Response:
    token = pages.settings().metrics_token
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        response = Response("A bearer token is needed.\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return _never_cached(response)
    body = generate_latest(metrics_of(current_app).registry)
    return _never_cached(Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST))


__all__ = ["health"]
