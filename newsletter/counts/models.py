"""The two count tables: clicks per issue and link, visits per issue. Numbers only, by design.

No column could name a reader: not a subscriber id, address, delivery id, IP address, user agent or
time of a click. A count is a single integer raised in place by the database (see `store.py`).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db import Base
from newsletter.issues.models import Issue  # noqa: F401  (the issues table the foreign keys name)


class LinkCount(Base):
    """One link of an issue's email (one row per address, however often it appears) and its clicks."""

    __tablename__ = "link_counts"
    __table_args__ = (UniqueConstraint("issue_id", "url_hash", name="uq_link_counts_issue_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    # The address's SHA-256 is the unique key: an address can be longer than PostgreSQL indexes allow.
    url_hash: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    # Where the link first appears in the email, so the report reads in the email's order.
    position: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class WebViewCount(Base):
    """How many times an issue's public web view was opened (not by the team, a scanner or a HEAD)."""

    __tablename__ = "web_view_counts"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True)
    visits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
