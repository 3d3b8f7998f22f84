"""Retention on SQLite and PostgreSQL: rows made old by setting their timestamps, then `newsletter maintenance`.

Each kind of personal detail goes on its own clock, and nothing younger is touched. A campaign whose
rows lost their link to the readers shows the same counts everywhere its rows are read: the progress,
the campaign page, `campaigns show`, and a late bounce.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from newsletter.cli import main
from newsletter.config import Settings, get_settings, reset_settings
from newsletter.db import session_scope, utcnow
from newsletter.delivery import campaigns
from newsletter.delivery.models import Campaign, Delivery, DeliveryState
from newsletter.delivery.transport import SmtpTransport
from newsletter.issues import store
from newsletter.maintenance import JOBS, Job, MaintenanceRun, claim_daily, run_if_due, run_jobs

from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers, run_to_end
from tests.smtp import SmtpServer

DAY = timedelta(days=1)


@pytest.fixture
def quick(db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in {"NEWSLETTER_SEND_RATE": "5000", "NEWSLETTER_SEND_BURST": "500",
                        "NEWSLETTER_SEND_MAX_ATTEMPTS": "1", "NEWSLETTER_SEND_LEASE_SECONDS": "3"}.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    return get_settings()


def _sent_campaign(settings: Settings, ended_days_ago: int) -> int:
    """A campaign to 8 readers that ended `ended_days_ago`: 5 sent, 2 bounced (the server quotes the
    address in its reply), 1 failed."""
    with session_scope() as session:
        campaign_id = campaigns.create_campaign(session, store.get_issue(session, SLUG), ("send-news",), settings).id

    def reply(address: str, elapsed: float) -> str | None:
        number = int(address.split("@")[0].removeprefix("reader"))
        if number in (1, 2):
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        return f"452 4.2.2 <{address}> mailbox full" if number == 3 else None

    with SmtpServer([reply]) as server:
        transport = SmtpTransport(server.url)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    with session_scope() as session:
        session.execute(update(Campaign).where(Campaign.id == campaign_id)
                        .values(finished_at=utcnow() - ended_days_ago * DAY))
    return campaign_id


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _rows(campaign_id: int) -> list[Delivery]:
    with session_scope() as session:
        return list(session.scalars(select(Delivery).where(Delivery.campaign_id == campaign_id).order_by(Delivery.id)))


def test_old_campaigns_forget_their_readers_and_keep_their_counts(quick: Settings) -> None:
    approved_issue(quick)
    make_readers(make_list(), 8)
    old = _sent_campaign(quick, ended_days_ago=quick.delivery_retention_days + 1)
    with session_scope() as session:
        before = campaigns.progress(session, old).counts
    assert before[DeliveryState.SENT] == 5 and before[DeliveryState.BOUNCED] == 2 and before[DeliveryState.FAILED] == 1
    shown_before = _cli("campaigns", "show", str(old))
    assert any("@example.org" in row.last_reply for row in _rows(old))

    output = _cli("maintenance")
    assert "delivery rows no longer linked to a reader" in output
    assert "       8  delivery rows" in output

    rows = _rows(old)
    assert len(rows) == 8
    assert all(row.subscriber_id is None and row.last_reply == "" and row.message_id == "" for row in rows)
    with session_scope() as session:
        assert campaigns.progress(session, old).counts == before
        assert session.get(Campaign, old).recipients_removed_at is not None
        with pytest.raises(campaigns.SendRefused, match="forgotten"):
            campaigns.retry_failed(session, old)
    assert _cli("campaigns", "show", str(old)).splitlines()[0] == shown_before.splitlines()[0]
    assert "who it went to was forgotten" in _cli("campaigns", "show", str(old))

    # The same again changes nothing.
    assert "       0  delivery rows" in _cli("maintenance")


def test_a_campaign_inside_the_period_keeps_its_rows(quick: Settings) -> None:
    approved_issue(quick)
    make_readers(make_list(), 8)
    young = _sent_campaign(quick, ended_days_ago=quick.delivery_retention_days - 1)
    _cli("maintenance")
    assert all(row.subscriber_id is not None for row in _rows(young))
    with session_scope() as session:
        assert session.get(Campaign, young).recipients_removed_at is None


def test_the_campaign_page_shows_the_same_counts_after(quick: Settings) -> None:
    from newsletter.accounts import service
    from newsletter.accounts.models import Role
    from newsletter.web import create_app

    approved_issue(quick)
    make_readers(make_list(), 8)
    old = _sent_campaign(quick, ended_days_ago=500)
    with session_scope() as session:
        service.create_user(session, "ann@example.org", "Ann Approver", "a long enough password", Role.APPROVER)
    client = create_app(quick).test_client()
    page = client.get("/team/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/team/sign-in", data={"email": "ann@example.org", "password": "a long enough password",
                                       "csrf_token": token})
    before = client.get(f"/team/campaigns/{old}/progress.json").get_json()
    run_jobs(quick)
    after = client.get(f"/team/campaigns/{old}/progress.json").get_json()
    assert after["counts"] == before["counts"] and after["total"] == 8 and after["done"] == 8
    page = client.get(f"/team/campaigns/{old}").get_data(as_text=True)
    assert 'data-field="sent">5<' in page and 'data-field="bounced">2<' in page
    assert "who it went to" in page.lower() and "Retry failed" not in page
    listed = client.get("/team/campaigns").get_data(as_text=True)
    assert f"/team/campaigns/{old}" in listed


def test_a_late_bounce_for_a_forgotten_row_changes_no_one(quick: Settings) -> None:
    from email.message import EmailMessage

    from newsletter.delivery import bounces
    from newsletter.delivery.mime import verp_address
    from subscribers.models import Suppression

    approved_issue(quick)
    make_readers(make_list(), 8)
    old = _sent_campaign(quick, ended_days_ago=500)
    run_jobs(quick)
    sent = next(row for row in _rows(old) if row.state is DeliveryState.SENT)
    report = EmailMessage()
    report["To"] = verp_address(sent.id, quick.sender_domain, quick.secret_key)
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.set_content("This is the mail system. 550 5.1.1 user unknown")
    with session_scope() as session:
        suppressed = session.scalar(select(Suppression.id).order_by(Suppression.id.desc()))
        bounces.process_message(session, bounces.parse(report.as_bytes()), quick)
        assert session.scalar(select(Suppression.id).order_by(Suppression.id.desc())) == suppressed


def _comment(session, issue_id: int, days_old: int, resolved: bool) -> int:  # type: ignore[no-untyped-def]
    from newsletter.review.models import Comment

    then = utcnow() - days_old * DAY
    comment = Comment(issue_id=issue_id, block_key="", author_name="A parent carer", body="Say when it starts.",
                      created_at=then, resolved_at=then if resolved else None)
    session.add(comment)
    session.flush()
    return comment.id


def test_each_kind_goes_on_its_own_clock(db: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from newsletter.accounts import service, sessions, throttle
    from newsletter.accounts.models import Role, SignInThrottle, TeamSession
    from newsletter.issues import service as issues
    from newsletter.review.models import Comment, ReviewLink
    from subscribers import membership
    from subscribers import store as people
    from subscribers.models import ConsentSource, Subscriber, Subscription

    from tests.conftest import EXAMPLE

    now = utcnow()
    with session_scope() as session:
        news = people.create_list(session, "send-news", "SEND newsletter")
        for email, days in (("old@example.org", 15), ("new@example.org", 13)):
            person, _ = people.get_or_create_subscriber(session, email)
            membership.add_unconfirmed(session, person, news, source=ConsentSource.FORM, wording="test")
            session.flush()
            then = now - days * DAY
            session.execute(update(Subscriber).where(Subscriber.id == person.id).values(created_at=then))
            session.execute(update(Subscription).where(Subscription.subscriber_id == person.id).values(created_at=then))
        draft, _ = issues.import_issue(session, EXAMPLE, db)
        links = {
            "expired long ago": ReviewLink(issue_id=draft.id, label="Forum", created_at=now - 60 * DAY,
                                           expires_at=now - 31 * DAY),
            "expired lately": ReviewLink(issue_id=draft.id, label="Forum", created_at=now - 40 * DAY,
                                         expires_at=now - 29 * DAY),
            "withdrawn long ago": ReviewLink(issue_id=draft.id, label="Forum", created_at=now - 40 * DAY,
                                             expires_at=now + 9 * DAY, revoked_at=now - 31 * DAY),
            "working": ReviewLink(issue_id=draft.id, label="Forum", created_at=now, expires_at=now + 14 * DAY),
        }
        session.add_all(links.values())
        session.flush()
        link_ids = {name: link.id for name, link in links.items()}
        on_draft = {"old resolved": _comment(session, draft.id, 181, True),
                    "old open": _comment(session, draft.id, 400, False),
                    "young resolved": _comment(session, draft.id, 179, True)}
        user = service.create_user(session, "ann@example.org", "Ann", "a long enough password", Role.APPROVER)
        sessions.start(session, user, now=now - timedelta(hours=13))
        sessions.start(session, user, now=now)
        throttle.record_failure(session, "someone@example.org", "203.0.113.9", now=now - timedelta(hours=25))
    reports = tmp_path / "reports"
    monkeypatch.setattr(tempfile, "tempdir", str(reports))
    folder = reports / f"newsletter-imports-{os.getuid()}"
    folder.mkdir(parents=True, mode=0o700)
    (folder / "old.json").write_text("{}")
    (folder / "old-problems.csv").write_text("email\n")
    (folder / "new.json").write_text("{}")
    two_days_ago = time.time() - 2 * 86400
    os.utime(folder / "old.json", (two_days_ago, two_days_ago))
    os.utime(folder / "old-problems.csv", (two_days_ago, two_days_ago))

    counts = {outcome.job: outcome.count for outcome in run_jobs(db)}

    assert counts == {job.name: count for job, count in zip(JOBS, [0, 1, 2, 1, 0, 2, 1, 1])}, counts
    with session_scope() as session:
        assert people.find_subscriber(session, "old@example.org") is None
        assert people.find_subscriber(session, "new@example.org") is not None
        left = set(session.scalars(select(ReviewLink.id)))
        assert left == {link_ids["expired lately"], link_ids["working"]}
        assert set(session.scalars(select(Comment.id))) == {on_draft["old open"], on_draft["young resolved"]}
        assert len(session.scalars(select(TeamSession.id)).all()) == 1
        assert session.scalars(select(SignInThrottle.key)).all() == []
    assert sorted(path.name for path in folder.iterdir()) == ["new.json"]


def test_comments_on_an_issue_that_went_out_go_even_when_open(db: Settings) -> None:
    from newsletter.issues import service as issues
    from newsletter.issues.models import Issue, IssueStatus
    from newsletter.review.models import Comment

    from tests.conftest import EXAMPLE

    with session_scope() as session:
        issue, _ = issues.import_issue(session, EXAMPLE, db)
        old_open = _comment(session, issue.id, 181, False)
        young_open = _comment(session, issue.id, 10, False)
        issue_id = issue.id
    run_jobs(db)
    with session_scope() as session:
        assert set(session.scalars(select(Comment.id))) == {old_open, young_open}, "a draft's open comments stay"
        session.execute(update(Issue).where(Issue.id == issue_id).values(status=IssueStatus.SENT))
    run_jobs(db)
    with session_scope() as session:
        assert set(session.scalars(select(Comment.id))) == {young_open}


def test_a_failing_job_is_reported_and_the_others_still_run(db: Settings) -> None:
    def broken(session, settings, now):  # type: ignore[no-untyped-def]
        session.execute(update(MaintenanceRun).values(name="changed"))
        raise RuntimeError("disk on fire")

    seen = []

    def after(session, settings, now):  # type: ignore[no-untyped-def]
        seen.append(now)
        return 3

    outcomes = run_jobs(db, jobs=[Job("broken", broken), Job("after", after)])
    assert [(o.job, o.count, o.error) for o in outcomes] == [("broken", 0, "RuntimeError"), ("after", 3, "")]
    assert len(seen) == 1


def test_the_daily_run_is_claimed_by_exactly_one_of_many_at_once(db: Settings) -> None:
    barrier = threading.Barrier(6)
    won: list[bool] = []

    def tick() -> None:
        barrier.wait()
        with session_scope() as session:
            won.append(claim_daily(session))

    threads = [threading.Thread(target=tick) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 5 + [True]
    with session_scope() as session:
        assert claim_daily(session) is False
        assert claim_daily(session, utcnow() + DAY + timedelta(seconds=1)) is True
    assert run_if_due(db) is None


def test_two_runs_at_once_do_each_thing_once(quick: Settings) -> None:
    approved_issue(quick)
    make_readers(make_list(), 8)
    old = _sent_campaign(quick, ended_days_ago=500)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes = run_jobs(quick)
            assert all(not o.error for o in outcomes), outcomes
            results.append(outcomes[0].count)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [0, 8]
    assert all(row.subscriber_id is None for row in _rows(old))


def test_the_embedded_runner_runs_it_once_a_day(quick: Settings) -> None:
    from newsletter.delivery.embedded import EmbeddedRunner

    approved_issue(quick)
    make_readers(make_list(), 8)
    old = _sent_campaign(quick, ended_days_ago=500)
    runner = EmbeddedRunner(quick)
    runner.step()
    assert all(row.subscriber_id is not None for row in _rows(old)), "not in the first minute of a runner"
    runner.next_maintenance_check = 0.0
    runner.step()
    runner.close()
    assert all(row.subscriber_id is None for row in _rows(old))
    with session_scope() as session:
        assert session.scalar(select(MaintenanceRun.finished_at)) is not None


def test_the_beat_tick_runs_it_once_a_day(quick: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.delivery import tasks
    from newsletter.delivery.celery_app import make_celery

    monkeypatch.setenv("NEWSLETTER_REDIS_URL", "redis://127.0.0.1:6379/13")
    reset_settings()
    settings = get_settings()
    approved_issue(settings)
    make_readers(make_list(), 8)
    old = _sent_campaign(settings, ended_days_ago=500)
    app = make_celery(settings)
    app.conf.task_always_eager = True  # the maintenance task runs here, as a worker would run it
    app.set_current()
    monkeypatch.setattr(tasks, "_resources", tasks._ProcessResources())
    tasks.tick()
    assert all(row.subscriber_id is None for row in _rows(old))
    with session_scope() as session:
        first = session.scalar(select(MaintenanceRun.started_at))
    tasks.tick()
    with session_scope() as session:
        assert session.scalar(select(MaintenanceRun.started_at)) == first, "once a day, not every tick"


def test_migration_0015_makes_exactly_what_the_models_say(db: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from newsletter.db import Base, engine_for
    from newsletter.models import load_all

    load_all()
    with engine_for(db.database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    ours = ("maintenance_runs", "first_run", "recipients_removed_at")
    assert [entry for entry in diff if any(name in repr(entry) for name in ours)] == []
