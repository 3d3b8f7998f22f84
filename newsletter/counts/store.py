"""Reading and raising the counts. Every raise is one statement the database applies atomically.

`count = count + 1` in a single UPDATE (or an insert that becomes that update on conflict) is applied
under the row's lock, so a hundred clicks at the same moment make a hundred, on SQLite and PostgreSQL
alike; reading the number first and writing it back would lose some of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.counts.models import LinkCount, WebViewCount
from newsletter.delivery.models import Campaign


def _insert(session: Session, model: type) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def register_links(session: Session, issue_id: int, urls: Sequence[str]) -> dict[str, int]:
    """The row id of each of an issue's link addresses, made on first sight (in the order given).

    Insert-or-ignore, so a second freeze of the same issue (a test copy, then the campaign; a campaign
    sent again after a cancel) finds the rows the first made, and two at once cannot make two rows.
    """
    if not urls:
        return {}
    unique = list(dict.fromkeys(urls))
    rows = [{"issue_id": issue_id, "url_hash": url_hash(url), "url": url, "position": index, "clicks": 0}
            for index, url in enumerate(unique)]
    session.execute(_insert(session, LinkCount).on_conflict_do_nothing(index_elements=["issue_id", "url_hash"]),
                    rows)
    found = session.execute(
        select(LinkCount.url_hash, LinkCount.id)
        .where(LinkCount.issue_id == issue_id, LinkCount.url_hash.in_([row["url_hash"] for row in rows]))
    ).all()
    ids = dict(found)
    return {url: ids[url_hash(url)] for url in unique}


def destination(session: Session, issue_id: int, link_id: int) -> str | None:
    return session.scalar(select(LinkCount.url).where(LinkCount.id == link_id, LinkCount.issue_id == issue_id))


def has_gone_out(session: Session, issue_id: int) -> bool:
    """Whether a campaign of the issue has started: before that, only the team has its links (test copies)."""
    return bool(session.scalar(select(exists().where(Campaign.issue_id == issue_id,
                                                     Campaign.started_at.is_not(None)))))


def count_click(session: Session, issue_id: int, link_id: int) -> None:
    session.execute(
        update(LinkCount)
        .where(LinkCount.id == link_id, LinkCount.issue_id == issue_id)
        .values(clicks=LinkCount.clicks + 1)
        .execution_options(synchronize_session=False)
    )


def count_web_view(session: Session, issue_id: int) -> None:
    statement = _insert(session, WebViewCount).values(issue_id=issue_id, visits=1)
    session.execute(statement.on_conflict_do_update(index_elements=["issue_id"],
                                                    set_={"visits": WebViewCount.visits + 1}))


def clicks(session: Session, issue_id: int, link_ids: Sequence[int]) -> list[tuple[str, int]]:
    """The clicks on each of these links of the issue, in the order given (the order of the email)."""
    if not link_ids:
        return []
    rows = dict(session.execute(select(LinkCount.id, LinkCount).where(LinkCount.issue_id == issue_id,
                                                                       LinkCount.id.in_(list(link_ids)))).all())
    return [(rows[i].url, int(rows[i].clicks)) for i in link_ids if i in rows]


def web_views(session: Session, issue_id: int) -> int:
    return int(session.scalar(select(WebViewCount.visits).where(WebViewCount.issue_id == issue_id)) or 0)
