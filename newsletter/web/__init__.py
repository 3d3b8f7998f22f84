"""The web app: `create_app()` registers the blueprints, security headers and error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from newsletter.config import Settings, get_settings
from newsletter.paths import templates_dir
from newsletter.theme import load_theme

# No inline script or style anywhere, so the policy can forbid both; images may come from any https host
# because issues link images the team hosts elsewhere.
CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)


def create_app(settings: Settings | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """The web app for `settings` (the process's settings if none are given), with `test_config` on top.

    The app owns its settings and theme: they are kept in `app.config["NEWSLETTER_SETTINGS"]` and
    `app.config["NEWSLETTER_THEME"]` (the theme read once, here, from `settings.theme_file`), and
    everything that runs in a request reads them through `newsletter.web.pages`: `settings()`,
    `theme()`, and `session_scope()` for a transaction on `settings.database_url`. Two apps with
    different settings in one process each serve their own database, theme and addresses.
    """
    settings = settings or get_settings()
    settings.refuse_development_secret_off_loopback()
    from newsletter import logs

    logs.configure(settings.log_format, settings.log_level)
    app = Flask(
        __name__,
        static_folder=str(templates_dir() / "web" / "static"),
        static_url_path="/static",
    )
    app.config.update(SECRET_KEY=settings.secret_key, NEWSLETTER_SETTINGS=settings,
                      NEWSLETTER_THEME=load_theme(settings.theme_file))
    if test_config:
        app.config.update(test_config)

    from newsletter.web.answers import answer_pages
    from newsletter.web.auth import init_auth
    from newsletter.web.bounces import bounces
    from newsletter.web.clicks import clicks
    from newsletter.web.composer import composer
    from newsletter.web.csrf import init_csrf
    from newsletter.web.events import events
    from newsletter.web.first_run import announce, set_up
    from newsletter.web.health import health
    from newsletter.web.history import versions as history
    from newsletter.web.limits import init_limits, too_large_message
    from newsletter.web.observe import init_observe
    from newsletter.web.pages import render_page
    from newsletter.web.public import public
    from newsletter.web.reader_comments import reader_comments
    from newsletter.web.review import review
    from newsletter.web.sending import sending
    from newsletter.web.subscriptions import subscriptions
    from newsletter.web.team_lists import team_lists
    from newsletter.web.team_users import team_users
    from newsletter.web.theme_page import theme_page

    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    init_observe(app)  # first: the request id is on every line the other hooks write
    init_limits(app)
    init_csrf(app)
    init_auth(app)
    app.register_blueprint(set_up)
    announce(app, settings)  # the first-run set-up code, in the log, while there is no account
    for blueprint in (public, bounces, subscriptions, composer, review, sending, team_lists, team_users, theme_page):
        app.register_blueprint(blueprint)
    app.register_blueprint(history)
    app.register_blueprint(events)
    app.register_blueprint(answer_pages)
    app.register_blueprint(reader_comments)
    app.register_blueprint(health)
    app.register_blueprint(clicks)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if settings.web_noindex:
            response.headers["X-Robots-Tag"] = "noindex"
        return response

    @app.errorhandler(HTTPException)
    def _error_page(error: HTTPException) -> tuple[str, int]:
        page = render_page("error.html.j2", code=error.code, name=error.name, description=error.description)
        return page, error.code or 500

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
        message = too_large_message(request.endpoint, request.max_content_length or 0)
        return render_page("error.html.j2", code=413, name=error.name, page_heading="That was too large to send",
                           description=message), 413

    return app


__all__ = ["create_app"]
