"""What a request reads from its app, and the one way a page is rendered.

`create_app(settings)` keeps the settings and the theme on the app (`app.config["NEWSLETTER_SETTINGS"]`
and `app.config["NEWSLETTER_THEME"]`). Code that runs in a request reads them here, `settings()` and
`theme()`, and opens its transactions with `session_scope()` on the app's own database, never through
the process-wide `get_settings()` or `get_theme()`; so an app made with other settings is wholly that
app. (csrf.py and limits.py, which this module builds on, read the same config key.)
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from flask import current_app, g, get_flashed_messages, request, session, url_for
from sqlalchemy.orm import Session

from newsletter import db
from newsletter.config import Settings
from newsletter.render.pipeline import web_page_context
from newsletter.render.templating import environment
from newsletter.theme import Theme, with_overrides
from newsletter.web.csrf import csrf_field, csrf_token


def settings() -> Settings:
    """The settings of the app serving this request."""
    found: Settings = current_app.config["NEWSLETTER_SETTINGS"]
    return found


def theme() -> Theme:
    """The theme of the app serving this request: its settings' theme file, read when the app was made,
    with what the "Theme and footer" page stored in the app's database (newsletter/theme.py)."""
    found: Theme = current_app.config["NEWSLETTER_THEME"]
    return with_overrides(found, settings().database_url)


def session_scope() -> AbstractContextManager[Session]:
    """A transaction on the app's database: committed when the block ends, rolled back if it raises."""
    return db.session_scope(settings().database_url)


def render_page(template: str, **context: Any) -> str:
    """`templates/web/<template>` with what every page's layout needs (theme, addresses, the CSRF field).

    `context` comes last, so a page may override any of it (an issue's own `web_context`, `noindex`).
    """
    full = web_page_context(theme(), settings())
    full["csrf_field"] = csrf_field
    full.update(context)
    return environment().get_template(f"web/{template}").render(full)


def render_team(template: str, **context: Any) -> str:
    """A composer page (`templates/web/team/<template>`): the signed-in person, their messages, never indexed."""
    return render_page(
        f"team/{template}",
        csrf_token=csrf_token,
        url_for=url_for,
        current_user=g.get("user"),
        messages=get_flashed_messages(with_categories=True),
        endpoint=request.endpoint or "",
        saved_form=session.pop("saved_form", None),
        noindex=True,
        **context,
    )


__all__ = ["render_page", "render_team", "session_scope", "settings", "theme"]
