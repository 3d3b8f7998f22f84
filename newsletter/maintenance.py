"""Retention: what the service forgets, and when. One list of jobs, run by `newsletter maintenance`, by the
Celery beat tick once a day, and by the embedded runner once a day.

Personal details are kept only as long as their purpose needs (UK GDPR Article 5(1)(e), storage
limitation), each kind on its own clock; the README's "What is kept, and for how long" says which and
why. A job is a function `(session, settings, now) -> int` that deletes or clears what is past its
time and returns how many things it removed; registering one is one line in JOBS. Each job runs in
its own transaction, so one that fails is reported and the others still run.

Every job is written as statements that are safe to run twice at once (a second run finds nothing
left to do, or waits for the first and then finds nothing), and the daily run is claimed with one
conditional write (`claim_daily`), so however many ticks, workers or web processes there are, one
of them starts it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from newsletter.accounts import sessions, throttle
from newsletter.config import Settings
from newsletter.db import Base, UTCDateTime, session_scope, utcnow
from newsletter.counts import report
from newsletter.delivery.retention import forget_recipients
from newsletter.listening.store import purge_comments_job
from newsletter.review.retention import remove_old_comments, remove_old_links
from subscribers import api as subscribers_api

log = logging.getLogger(__name__)

JobFunction = Callable[[Session, Settings, datetime], int]
DAILY = "retention"
EVERY = timedelta(days=1)


class MaintenanceRun(Base):
    """When the daily run last started and finished (one row per kind of run)."""

    __tablename__ = "maintenance_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Job:
    name: str  # what the count is, in the words `newsletter maintenance` prints
    run: JobFunction


def _unconfirmed_requests(session: Session, settings: Settings, now: datetime) -> int:
    return subscribers_api.purge_unconfirmed(session, timedelta(days=settings.unconfirmed_days)).subscriptions


def _import_reports(session: Session, settings: Settings, now: datetime) -> int:
    # The folder private to this user (the web app's default); each import also sweeps it.
    return subscribers_api.ImportReports.private().remove_old()


def _team_sessions(session: Session, settings: Settings, now: datetime) -> int:
    return sessions.remove_expired(session, idle=timedelta(minutes=settings.session_idle_minutes),
                                   lifetime=timedelta(hours=settings.session_hours), now=now)


def _delivery_readers(session: Session, settings: Settings, now: datetime) -> int:
    return forget_recipients(session, settings, now, keep=report.keep_unsubscribed)


def _sign_in_counts(session: Session, settings: Settings, now: datetime) -> int:
    return throttle.forget_old(session, now)


JOBS: list[Job] = [
    Job("delivery rows no longer linked to a reader (campaigns ended before the retention period)", _delivery_readers),
    Job("requests to join that nobody confirmed, deleted", _unconfirmed_requests),
    Job("review links that stopped working, deleted", remove_old_links),
    Job("old review comments (resolved, or on an issue that went out), deleted", remove_old_comments),
    Job("readers' comments older than NEWSLETTER_COMMENT_RETENTION_DAYS, deleted", purge_comments_job),
    Job("import reports and problem files older than a day, deleted", _import_reports),
    Job("ended team sign-in sessions, deleted", _team_sessions),
    Job("wrong-password counts older than a day, deleted", _sign_in_counts),
]


@dataclass(frozen=True)
class Outcome:
    job: str
    count: int
    error: str = ""  # set when the job failed; its transaction was rolled back


def run_jobs(settings: Settings, now: datetime | None = None, jobs: list[Job] | None = None) -> list[Outcome]:
    """Run every job, each in its own transaction; a failing job is logged and reported, the rest run."""
    now = now or utcnow()
    outcomes = []
    for job in JOBS if jobs is None else jobs:
        try:
            with session_scope(settings.database_url) as session:
                count = job.run(session, settings, now)
        except Exception as error:  # noqa: BLE001 — reported, and the other jobs still run
            log.exception("maintenance job failed: %s", job.name)
            outcomes.append(Outcome(job.name, 0, type(error).__name__))
            continue
        log.info("maintenance: %s: %d", job.name, count)
        outcomes.append(Outcome(job.name, count))
    with session_scope(settings.database_url) as session:
        _mark(session, now, finished=utcnow())
    return outcomes


def _mark(session: Session, started: datetime, finished: datetime | None = None) -> int:
    """Record a run as started (and finished), creating the row the first time; returns rows written."""
    table = MaintenanceRun.__table__
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    values = {"name": DAILY, "started_at": started, "finished_at": finished}
    if finished is None:
        statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=[table.c.name])
    else:
        statement = insert(table).values(**values).on_conflict_do_update(
            index_elements=[table.c.name], set_={"finished_at": finished})
    # Rows returned, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT through the ORM session.
    return len(session.execute(statement.returning(table.c.name)).all())


def last_started(session: Session) -> datetime | None:
    return session.scalar(select(MaintenanceRun.started_at).where(MaintenanceRun.name == DAILY))


def claim_daily(session: Session, now: datetime | None = None) -> bool:
    """True for exactly one caller a day: the write moves the start time only if a day has passed.

    Called by every tick, so it first only reads; the write happens once a day.

    Two ticks at once both try the write; the database lets one of them change the row (PostgreSQL
    re-reads the condition after the first commits; SQLite has one writer), so one runs the jobs.
    """
    now = now or utcnow()
    started = last_started(session)
    if started is not None and started > now - EVERY:
        return False  # the usual case, every tick: one read, no write
    moved = session.execute(
        update(MaintenanceRun).where(MaintenanceRun.name == DAILY, MaintenanceRun.started_at <= now - EVERY)
        .values(started_at=now).execution_options(synchronize_session=False)
    )
    if moved.rowcount:
        return True
    return _mark(session, now) == 1


def run_if_due(settings: Settings, now: datetime | None = None) -> list[Outcome] | None:
    """The jobs, if a day has passed since they last started (from the embedded runner); else None."""
    now = now or utcnow()
    with session_scope(settings.database_url) as session:
        if not claim_daily(session, now):
            return None
    return run_jobs(settings, now)


__all__ = ["JOBS", "Job", "MaintenanceRun", "Outcome", "claim_daily", "run_if_due", "run_jobs"]
