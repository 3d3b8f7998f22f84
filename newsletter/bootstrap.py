"""First start on the embedded default: create the database and load the example issue.

A new user runs one command and sees a real issue, not an empty page.
"""

from __future__ import annotations

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import service, store
from newsletter.migrate import upgrade
from newsletter.paths import examples_dir
from newsletter.tokens import sign

EXAMPLE = "co-production-week.yaml"


def first_start(settings: Settings) -> list[str]:
    """Migrate the database and load the example if there are no issues yet; returns what to tell the user."""
    upgrade(settings.database_url)
    lines: list[str] = []
    with session_scope() as session:
        issues = store.list_issues(session)
        if not issues and (examples_dir() / EXAMPLE).is_file():
            issue, _ = service.import_issue(session, examples_dir() / EXAMPLE, settings)
            lines.append(f"Loaded the example issue {issue.slug!r} into {settings.database_url}.")
            issues = [issue]
        from newsletter.web.public import PREVIEW_PURPOSE

        for issue in issues[:5]:
            lines.append(f"Preview {issue.title!r}: {settings.base_url}/preview/{sign(PREVIEW_PURPOSE, issue.slug)}")
        from newsletter.accounts.service import has_users

        if not has_users(session):
            lines.append(f"No team accounts yet. Open {settings.base_url}/team/set-up and enter the set-up code "
                         "printed below to make the first approver (or run: newsletter users create EMAIL "
                         "--name NAME --role approver)")
        else:
            lines.append(f"Composer: {settings.base_url}/team/")
    return lines
