"""Rendering the team's pages: the site's templates plus what every composer page needs."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, get_flashed_messages, request, session, url_for

from newsletter.render.pipeline import web_page_context
from newsletter.render.templating import environment
from newsletter.theme import get_theme
from newsletter.web.csrf import csrf_field, csrf_token


def render_team(template: str, **context: Any) -> str:
    settings = current_app.config["NEWSLETTER_SETTINGS"]
    full = web_page_context(get_theme(), settings)
    full.update(
        csrf_field=csrf_field,
        csrf_token=csrf_token,
        url_for=url_for,
        current_user=g.get("user"),
        messages=get_flashed_messages(with_categories=True),
        endpoint=request.endpoint or "",
        saved_form=session.pop("saved_form", None),
        noindex=True,
    )
    full.update(context)
    return environment().get_template(f"web/team/{template}").render(full)
