"""The team's view of lists and subscribers: counts per list and status."""

from __future__ import annotations

from flask import Blueprint

from newsletter.db import session_scope
from newsletter.web.auth import login_required
from newsletter.web.pages import render_team

team_lists = Blueprint("team_lists", __name__, url_prefix="/team")


@team_lists.route("/lists")
@login_required
def lists() -> str:
    from subscribers import api, store
    from subscribers.models import SubscriptionStatus

    with session_scope() as session:
        counts = store.subscription_counts(session)
        rows = [
            (mailing_list, counts.get(mailing_list.id, {}), api.count_sendable(session, [mailing_list.id]))
            for mailing_list in store.all_lists(session)
        ]
        return render_team("lists.html.j2", title="Lists and subscribers", rows=rows, statuses=list(SubscriptionStatus))
