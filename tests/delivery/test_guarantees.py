"""The delivery promises under concurrency and slow relays, each with its interleaving forced.

Every test here failed before the fix it names: a lease that ran out under a live worker (a slow
reply, a long wait for the rate limit), unsubscribes and erasures during a batch, a cancel that
kept sending, stale reads racing the finish, a scheduled campaign resumed early, one issue sent
twice at once, a rate limit that granted ten when it meant one. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from newsletter.config import Settings, get_settings, reset_settings
from newsletter.db import session_scope, utcnow
from newsletter.delivery import campaigns, ledger, sender
from newsletter.delivery.models import Campaign, CampaignMessage, CampaignState, Delivery, DeliveryState
from newsletter.delivery.ratelimit import DatabaseLimiter, LocalLimiter, Rate
from newsletter.delivery.sender import work
from newsletter.delivery.transport import SmtpTransport, Transport
from newsletter.issues import store
from newsletter.issues.models import IssueStatus

from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers, run_to_end
from tests.smtp import SmtpServer


def _settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    for name, value in values.items():
        monkeypatch.setenv(f"NEWSLETTER_{name}", value)
    reset_settings()
    return get_settings()


def _create(settings: Settings, **kwargs: object) -> int:
    with session_scope() as session:
        return campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], settings,
                                         **kwargs).id


def _rows(campaign_id: int) -> dict[str, DeliveryState]:
    with session_scope() as session:
        from subscribers.models import Subscriber

        rows = session.execute(
            select(Subscriber.email, Delivery.state).outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.campaign_id == campaign_id)
        ).all()
    return {email or "(erased)": state for email, state in rows}


def _state(campaign_id: int) -> CampaignState:
    with session_scope() as session:
        return session.get(Campaign, campaign_id).state


def _workers(settings: Settings, campaign_id: int, url: str, count: int, limiter: object,
             until: Callable[[], bool], timeout: float = 60.0) -> list[BaseException]:
    """`count` sending loops in threads, each with its own connection, as separate workers would be."""
    errors: list[BaseException] = []

    def loop() -> None:
        transport = SmtpTransport(url)
        deadline = time.monotonic() + timeout
        try:
            while not until() and time.monotonic() < deadline:
                report = work(campaign_id, settings, transport, limiter, max_seconds=5)  # type: ignore[arg-type]
                time.sleep(min(report.retry_after or 0.05, 0.2))
        except BaseException as error:  # noqa: BLE001 — reported by the test
            errors.append(error)
        finally:
            transport.close()

    threads = [threading.Thread(target=loop) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 10)
    return errors


def _finished(campaign_id: int) -> Callable[[], bool]:
    return lambda: _state(campaign_id) is not CampaignState.RUNNING


# --- one reader, one message, however slow the relay -------------------------------------------------


def test_a_reply_slower_than_the_lease_is_not_sent_again_by_another_worker(db: Settings,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, SEND_RATE="1000", SEND_BURST="100", SEND_LEASE_SECONDS="1",
                         SEND_BATCH_SIZE="10")
    approved_issue(settings)
    make_readers(make_list(), 12)
    campaign_id = _create(settings)
    beats: list[float] = []
    # The first reader's 250 takes two and a half leases; the second worker must not take their row.
    slow = {"reader0@example.org": 2.5}
    with SmtpServer(delay=lambda address: slow.pop(address, 0.0)) as server:
        limiter = LocalLimiter(Rate(1000, burst=100))
        errors = _workers(settings, campaign_id, server.url, 2, limiter, _finished(campaign_id))
    assert not errors
    assert set(server.handler.by_recipient().values()) == {1}, server.handler.by_recipient()
    assert len(server.messages) == 12
    assert set(_rows(campaign_id).values()) == {DeliveryState.SENT}
    del beats


def test_a_low_rate_with_long_waits_sends_each_reader_once_and_keeps_the_pace(
        db: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # 0.5 s between messages against a 1 s lease: every worker waits longer than a third of a lease
    # for each permit, and two workers share the limit, as on a Microsoft 365 relay.
    settings = _settings(monkeypatch, SEND_RATE="4", SEND_BURST="1", SEND_LEASE_SECONDS="1", SEND_BATCH_SIZE="10")
    approved_issue(settings)
    make_readers(make_list(), 8)
    campaign_id = _create(settings)
    with SmtpServer() as server:
        limiter = DatabaseLimiter("outbox", Rate(4, burst=1))
        started = time.monotonic()
        errors = _workers(settings, campaign_id, server.url, 2, limiter, _finished(campaign_id))
        took = time.monotonic() - started
    assert not errors
    assert set(server.handler.by_recipient().values()) == {1} and len(server.messages) == 8
    # Eight messages at four a second with a burst of one: at least 7 intervals of 0.25 s.
    assert took >= 1.7, f"8 messages went in {took:.2f}s: faster than 4 a second"


def test_the_rate_limit_grants_only_what_it_can_and_the_sender_sends_only_that(
        db: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = LocalLimiter(Rate(20, burst=1))
    assert limiter.acquire(10) == 1, "a burst of one grants one permit at a time, and says so"
    settings = _settings(monkeypatch, SEND_RATE="20", SEND_BURST="1")
    approved_issue(settings)
    make_readers(make_list(), 20)
    campaign_id = _create(settings)
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    stamps = sorted(item.at for item in server.messages)
    assert len(stamps) == 20
    # 20 a second with no burst: 19 intervals of 50 ms at least (before the fix: 10 at once, twice).
    assert stamps[-1] - stamps[0] >= 0.9, f"20 messages in {stamps[-1] - stamps[0]:.2f}s"


def test_the_default_burst_follows_a_low_rate(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.delenv("NEWSLETTER_SEND_BURST", raising=False)
    reset_settings()
    assert get_settings().burst_for(0.5) == 1, "a 30-a-minute relay gets one message at a time"
    assert get_settings().burst_for(10) == 10
    assert get_settings().burst_for(5000) == 50


def test_two_processes_without_redis_share_one_rate(db: Settings) -> None:
    # `newsletter serve` and `newsletter send --wait` each have their own limiter object; the
    # database holds the one clock they share.
    first, second = DatabaseLimiter("outbox", Rate(10, burst=1)), DatabaseLimiter("outbox", Rate(10, burst=1))
    started = time.monotonic()
    threads = [threading.Thread(target=lambda lim=lim: [lim.acquire(1) for _ in range(6)]) for lim in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    took = time.monotonic() - started
    assert took >= 1.05, f"12 permits at 10 a second took {took:.2f}s: each limiter applied the full rate"


# --- leaving takes effect within a second ------------------------------------------------------------


class _AfterSending:
    """A transport that does something (in the middle of a batch) after the n-th message is accepted."""

    def __init__(self, inner: Transport, after: int, action: Callable[[], None]) -> None:
        self.inner, self.after, self.action, self.count = inner, after, action, 0
        self.done_at: float | None = None

    def send(self, sender_address: str, recipient: str, message: bytes) -> str:
        reply = self.inner.send(sender_address, recipient, message)
        self.count += 1
        if self.count == self.after:
            self.action()
            self.done_at = time.monotonic()
        return reply

    def close(self) -> None:
        self.inner.close()


def test_unsubscribe_and_erasure_during_a_batch_stop_their_messages(db: Settings,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from subscribers import api, erasure

    settings = _settings(monkeypatch, SEND_RATE="1000", SEND_BURST="100", SEND_LEASE_SECONDS="30",
                         SEND_BATCH_SIZE="50")
    approved_issue(settings)
    ids = make_readers(make_list(), 20)
    campaign_id = _create(settings)

    def leave() -> None:
        # Committed while the batch of 20 is in flight, as a one-click POST and an "erase me" would be.
        with session_scope() as session:
            api.record_unsubscribe(session, ids[12], None, "one-click")
        with session_scope() as session:
            erasure.erase_email(session, "reader14@example.org")

    with SmtpServer(delay=lambda _: 0.1) as server:
        transport = _AfterSending(SmtpTransport(server.url), after=2, action=leave)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    got = server.handler.by_recipient()
    assert "reader12@example.org" not in got and "reader14@example.org" not in got
    assert len(got) == 18 and set(got.values()) == {1}
    rows = _rows(campaign_id)
    assert rows["reader12@example.org"] is DeliveryState.SKIPPED
    # The erased reader's row stays, without them: every message is still accounted for.
    assert rows["(erased)"] is DeliveryState.SKIPPED and len(rows) == 20
    # The bound: nothing went to a reader who had left more than RECHECK_SECONDS before it was accepted.
    assert transport.done_at is not None


def test_an_erased_readers_sent_row_stays_counted_without_them(db: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from subscribers import erasure

    settings = _settings(monkeypatch, SEND_RATE="1000", SEND_BURST="100")
    approved_issue(settings)
    make_readers(make_list(), 3)
    campaign_id = _create(settings)
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    with session_scope() as session:
        erasure.erase_email(session, "reader1@example.org")
    with session_scope() as session:
        assert campaigns.progress(session, campaign_id).counts[DeliveryState.SENT] == 3
        orphan = session.scalar(select(Delivery).where(Delivery.subscriber_id.is_(None)))
        assert orphan is not None and orphan.state is DeliveryState.SENT and orphan.message_id


# --- steering: cancel, retry, finish, pause and resume -----------------------------------------------


def test_cancel_stops_sending_within_a_second_and_leaves_no_row_behind(db: Settings,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, SEND_RATE="1000", SEND_BURST="100", SEND_LEASE_SECONDS="30",
                         SEND_BATCH_SIZE="100")
    approved_issue(settings)
    make_readers(make_list(), 60)
    campaign_id = _create(settings)

    def cancel() -> None:
        with session_scope() as session:
            campaigns.cancel(session, campaign_id)

    with SmtpServer(delay=lambda _: 0.05) as server:
        transport = _AfterSending(SmtpTransport(server.url), after=5, action=cancel)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    assert transport.done_at is not None
    late = [item for item in server.messages if item.at > transport.done_at + sender.RECHECK_SECONDS + 0.2]
    assert not late, f"{len(late)} messages accepted more than {sender.RECHECK_SECONDS}s after the cancel"
    assert len(server.messages) < 60
    states = _rows(campaign_id).values()
    assert DeliveryState.QUEUED not in states and DeliveryState.SENDING not in states
    assert sum(1 for s in states if s is DeliveryState.SENT) == len(server.messages)
    assert _state(campaign_id) is CampaignState.CANCELLED


def _hold_then(first: Callable[[object], None], second: Callable[[object], None]) -> list[BaseException]:
    """Run `first` in a transaction that stays open while `second` starts in another; then commit.

    This is the interleaving a race needs: the second reads and writes while the first has written
    and not yet committed. With the campaign lock the second waits and then sees the first's result.
    """
    errors: list[BaseException] = []
    written, release = threading.Event(), threading.Event()

    def one() -> None:
        try:
            with session_scope() as session:
                first(session)
                session.flush()
                written.set()
                release.wait(10)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
            written.set()

    def two() -> None:
        written.wait(10)
        try:
            with session_scope() as session:
                second(session)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for thread in threads:
        thread.start()
    written.wait(10)
    time.sleep(0.5)  # let the second reach its read and write while the first is still open
    release.set()
    for thread in threads:
        thread.join(30)
    return errors


def _all_rows(campaign_id: int, state: DeliveryState, failed: int = 0) -> None:
    with session_scope() as session:
        session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id).values(state=state))
        if failed:
            ids = session.scalars(select(Delivery.id).where(Delivery.campaign_id == campaign_id).limit(failed)).all()
            session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(state=DeliveryState.FAILED))


def test_retry_failed_racing_the_finish_never_leaves_rows_nobody_sends(db: Settings) -> None:
    approved_issue(db)
    make_readers(make_list(), 6)
    campaign_id = _create(db)
    _all_rows(campaign_id, DeliveryState.SENT, failed=2)
    errors = _hold_then(lambda session: campaigns.retry_failed(session, campaign_id),  # type: ignore[arg-type]
                        lambda session: ledger.finish_if_done(session, campaign_id))  # type: ignore[arg-type]
    assert not errors
    counts = _rows(campaign_id)
    assert sum(1 for s in counts.values() if s is DeliveryState.QUEUED) == 2
    assert _state(campaign_id) is CampaignState.RUNNING, "a campaign with queued rows must still be running"


def test_cancel_racing_the_finish_keeps_a_sent_issue_sent(db: Settings) -> None:
    approved_issue(db)
    make_readers(make_list(), 4)
    campaign_id = _create(db)
    _all_rows(campaign_id, DeliveryState.SENT)

    def finish(session: object) -> None:
        assert ledger.finish_if_done(session, campaign_id)  # type: ignore[arg-type]
        campaigns.on_finished(session, campaign_id)  # type: ignore[arg-type]

    errors = _hold_then(finish, lambda session: campaigns.cancel(session, campaign_id))  # type: ignore[arg-type]
    assert len(errors) == 1 and isinstance(errors[0], campaigns.SendRefused), errors
    assert "finished" in str(errors[0])
    assert _state(campaign_id) is CampaignState.FINISHED
    with session_scope() as session:
        assert store.get_issue(session, SLUG).status is IssueStatus.SENT, "the web view link in every email works"


def test_pause_then_resume_of_a_scheduled_campaign_waits_for_its_time(db: Settings) -> None:
    approved_issue(db)
    make_readers(make_list(), 3)
    campaign_id = _create(db, send_at=utcnow() + timedelta(days=1))
    with session_scope() as session:
        campaigns.pause(session, campaign_id)
    with session_scope() as session:
        assert campaigns.resume(session, campaign_id).state is CampaignState.SCHEDULED
    with session_scope() as session:
        assert campaigns.start_due(session) == []
        assert store.get_issue(session, SLUG).status is IssueStatus.SCHEDULED
    assert set(_rows(campaign_id).values()) == {DeliveryState.QUEUED}


def test_one_issue_sent_twice_at_once_makes_one_campaign(db: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    approved_issue(db)
    make_readers(make_list(), 5)
    both_checked = threading.Barrier(2, timeout=10)
    check = campaigns._check_before_sending

    def check_then_wait(issue: object, settings: Settings) -> object:
        rendered = check(issue, settings)  # type: ignore[arg-type]
        both_checked.wait()  # each has read "approved" before either writes: a double-click on "Send now"
        return rendered

    monkeypatch.setattr(campaigns, "_check_before_sending", check_then_wait)
    made: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            made.append(_create(db))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(made) == 1, f"{len(made)} campaigns for one issue"
    assert len(errors) == 1 and isinstance(errors[0], campaigns.SendRefused), errors
    with session_scope() as session:
        assert session.scalar(select(Delivery.id).where(Delivery.campaign_id != made[0])) is None


def test_a_campaign_whose_message_cannot_be_built_fails_alone(db: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.delivery.embedded import EmbeddedRunner
    from newsletter.issues.yamlio import read_issue_file
    from subscribers.models import MailingList

    from tests.delivery.conftest import EXAMPLE

    settings = _settings(monkeypatch, SEND_RATE="1000", SEND_BURST="100")
    approved_issue(settings)
    bad_list, good_list = make_list(), make_list("short-breaks", "Short breaks")
    make_readers(bad_list, 3)
    make_readers(good_list, 4, prefix="family")
    bad = _create(settings)
    with session_scope() as session:
        doc = read_issue_file(EXAMPLE, settings.media_dir).model_copy(update={"slug": "second-issue"})
        second = store.create_issue(session, doc)
        store.move(second, IssueStatus.IN_REVIEW)
        store.move(second, IssueStatus.APPROVED)
        good = campaigns.create_campaign(session, second, ["short-breaks"], settings).id
    # A campaign made before messages were fixed at creation, to a list whose name was stored before
    # names were checked: no header may carry it, so no message can be built when it is first sent.
    with session_scope() as session:
        session.execute(delete(CampaignMessage).where(CampaignMessage.campaign_id == bad))
        session.execute(update(MailingList).where(MailingList.id == bad_list)
                        .values(name="Evil list\r\nBcc: victim@example.org"))
    runner = EmbeddedRunner(settings)
    try:
        for _ in range(20):
            runner.step()
            if _state(good) is not CampaignState.RUNNING:
                break
    finally:
        runner.close()
    with session_scope() as session:
        failed = session.get(Campaign, bad)
        assert failed.state is CampaignState.FAILED
        assert "list name" in failed.failure_reason
        assert session.get(Campaign, good).state is CampaignState.FINISHED, "the other campaign is not held up"
    assert set(_rows(bad).values()) == {DeliveryState.QUEUED}, "its readers wait, unsent, for a resume"
    outbox = list(settings.outbox_dir.glob("*.eml"))
    assert len(outbox) == 4 and not any(b"victim@" in path.read_bytes() for path in outbox)
    # Put right, it is resumed and sent.
    with session_scope() as session:
        session.execute(update(MailingList).where(MailingList.id == bad_list).values(name="SEND newsletter"))
    with session_scope() as session:
        campaigns.resume(session, bad)
    runner = EmbeddedRunner(settings)
    try:
        for _ in range(20):
            runner.step()
            if _state(bad) is not CampaignState.RUNNING:
                break
    finally:
        runner.close()
    assert _state(bad) is CampaignState.FINISHED


def test_a_failed_campaign_says_why_on_its_page_and_in_campaigns_show(db: Settings,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from newsletter.cli import main

    approved_issue(db)
    make_readers(make_list(), 2)
    campaign_id = _create(db)
    with session_scope() as session:
        campaigns.fail(session, campaign_id, "The list name cannot go in an email header")
    shown = CliRunner().invoke(main, ["campaigns", "show", str(campaign_id)])
    assert "failed" in shown.output and "The list name cannot go in an email header" in shown.output
    assert f"campaigns resume {campaign_id}" in shown.output


def test_a_list_whose_name_no_header_may_carry_is_refused_when_sending(db: Settings) -> None:
    from subscribers.models import MailingList

    approved_issue(db)
    bad_list = make_list()
    make_readers(bad_list, 2)
    with session_scope() as session:
        session.execute(update(MailingList).where(MailingList.id == bad_list).values(name="News\u2028Bcc: x@y.org"))
    with pytest.raises(campaigns.SendRefused, match="list name"):
        _create(db)
    with session_scope() as session:
        assert store.get_issue(session, SLUG).status is IssueStatus.APPROVED, "nothing changed"
        assert session.scalar(select(Campaign.id)) is None
