"""The accessibility statement page, served by the web app and written by `issues publish`.

The dates are the statement's own: when it was prepared and last reviewed against the pages. Change
them when the statement is reviewed (the regulations ask for a review at least once a year).
"""

from __future__ import annotations

from datetime import date

from newsletter.config import Settings
from newsletter.render.pipeline import web_page_context
from newsletter.render.templating import environment
from newsletter.theme import Theme

STATEMENT_PREPARED = date(2026, 11, 24)
STATEMENT_REVIEWED = date(2026, 11, 24)


def render_statement(theme: Theme, settings: Settings) -> str:
    context = web_page_context(theme, settings)
    context.update(prepared=STATEMENT_PREPARED, reviewed=STATEMENT_REVIEWED)
    return environment().get_template("web/accessibility.html.j2").render(context)
