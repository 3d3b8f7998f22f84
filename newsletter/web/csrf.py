"""Protection against cross-site request forgery for every form the web app serves.

A signed double submit: the browser holds a random value in a cookie (`newsletter_csrf`), and each
form carries that value signed with NEWSLETTER_SECRET_KEY (`csrf_token`). A POST is accepted only
when the two match. Another site can make a browser send our cookie, but cannot read it and cannot
sign a value without our key, so it cannot build a form we accept; the signature also defeats a
cookie planted from a neighbouring subdomain. No server-side session is needed.

Every POST, PUT, PATCH and DELETE is checked unless its view is marked `@csrf_exempt`. The one
public exemption is the RFC 8058 one-click unsubscribe, which mail providers POST without cookies;
its own signed token in the address is what protects it.

Tokens stay valid for a week, not minutes: some readers take a long time to fill in a form, and
WCAG 2.2 (2.2.1, timing adjustable) asks us not to throw their work away.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request
from markupsafe import Markup, escape

from newsletter.tokens import BadToken, sign, unsign

F = TypeVar("F", bound=Callable[..., Any])

COOKIE = "newsletter_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
MAX_AGE = 7 * 24 * 3600
_PURPOSE = "csrf"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

REFUSED = (
    "We could not accept this form, because the page was open for a long time or your browser did not "
    "send its security cookie. Go back, reload the page and try again. If it keeps happening, check that "
    "cookies are allowed for this site."
)


def csrf_exempt(view: F) -> F:
    """Mark a view that must accept POSTs from elsewhere (only the one-click unsubscribe does)."""
    view._csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _secret() -> str:
    return current_app.config["NEWSLETTER_SETTINGS"].secret_key


def _cookie_value() -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and 20 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum() else None


def csrf_token() -> str:
    """The signed token for this browser's cookie, creating the cookie if it has none."""
    if "csrf_value" not in g:
        existing = _cookie_value()
        g.csrf_value = existing or secrets.token_urlsafe(24)
        g.csrf_new = existing is None
    return sign(_PURPOSE, g.csrf_value, secret=_secret())


def csrf_field() -> Markup:
    """The hidden input every form includes: `{{ csrf_field() }}`."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(csrf_token())}">')  # nosec B704


def _same_origin() -> bool:
    """Where the browser says where the form came from (Origin), it must be us. Absent is allowed."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    host = urlsplit(origin).netloc
    base = urlsplit(current_app.config["NEWSLETTER_SETTINGS"].base_url).netloc
    return host in (request.host, base)


def _check() -> None:
    if request.method in _SAFE:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "_csrf_exempt", False):
        return
    cookie = _cookie_value()
    token = request.form.get(FIELD) or request.headers.get(HEADER)
    if not cookie or not token or not _same_origin():
        abort(400, description=REFUSED)
    try:
        value = unsign(_PURPOSE, token, max_age=MAX_AGE, secret=_secret())
    except BadToken:
        abort(400, description=REFUSED)
    if not isinstance(value, str) or not hmac.compare_digest(value, cookie):
        abort(400, description=REFUSED)


def _set_cookie(response: Response) -> Response:
    if g.get("csrf_new"):
        secure = request.is_secure or current_app.config["NEWSLETTER_SETTINGS"].base_url.startswith("https://")
        response.set_cookie(COOKIE, g.csrf_value, max_age=MAX_AGE, httponly=True, samesite="Lax", secure=secure)
    return response


def init_csrf(app: Flask) -> None:
    """Check every unsafe request, and make `csrf_field()` and `csrf_token()` available to templates."""
    app.before_request(_check)
    app.after_request(_set_cookie)
    app.jinja_env.globals.update(csrf_field=csrf_field, csrf_token=csrf_token)


__all__ = ["COOKIE", "FIELD", "HEADER", "csrf_exempt", "csrf_field", "csrf_token", "init_csrf"]
