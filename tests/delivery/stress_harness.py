"""A randomized stress run of the whole sending path, and the invariants it must keep.

Used by `tests/delivery/test_stress.py` (a short run in the normal suite, on SQLite and PostgreSQL)
and by `bench/stress.py` (longer runs by hand: more readers, more workers, several seeds).

What runs:
- several real `celery -A worker worker` processes and `celery -A worker beat` (the tick), on a
  private redis-server, sending two campaigns at once (the main one to two lists, a second one to
  one of them, which is cancelled part way);
- a slow and sometimes failing SMTP server on loopback (aiosmtpd): every reply waits a random
  0-300 ms, some answers are `451` temporary failures (a few readers are "flaky" and get them
  often), a few are `421` throttles, and a few `250` replies come later than the lease; it records
  every message it accepts with its recipient, its Message-ID, when the message was handed over
  (MAIL FROM) and when it was accepted;
- a low shared rate limit and a short lease;
- while the campaigns run, random operations from this process, each with the time its commit
  returned: pause/resume/cancel/retry-failed through `newsletter.delivery.campaigns` in a
  `session_scope` (as the CLI does, queueing work after resume and retry-failed), one-click
  unsubscribes (the real `/u/TOKEN` endpoint through the Flask app, or `subscribers.api`), erasures
  (`subscribers.erasure.erase_email`), CSV imports of overlapping files (sometimes the same file
  twice at once), double submissions of unsubscribes and erasures, and extra ticks.

The operations are drawn from a seeded generator (the seed is printed); the processes' timing is
not, so a seed makes a run comparable, not identical.

At the end every invariant is checked and each violation reported with details (see `check`).
"""

from __future__ import annotations

import asyncio
import csv
import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.delivery import campaigns
from newsletter.delivery.models import Campaign, CampaignState, Delivery, DeliveryState, FINAL_STATES
from newsletter.issues import store
from newsletter.issues.models import IssueStatus

from tests.conftest import EXAMPLE
from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers
from tests.delivery.test_workers import Processes, Redis, _env
from tests.smtp import SmtpServer, free_port

SECOND_SLUG = "co-production-week-2026-reminder"
MAIN_LIST, SECOND_LIST = "send-news", "short-breaks"
CONSENT = "Signed paper form at the SEND fair, 3 May 2026"
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)
_OUR_ID = re.compile(r"<nl\.(\d+)\.(\d+)@")

INVARIANTS = {
    1: "at most one message per reader per campaign accepted by the SMTP server",
    2: "the ledger agrees with the SMTP server (each `sent` row has exactly one accepted message with its "
       "Message-ID; each accepted message has its `sent` row, also for erased readers)",
    3: "nothing handed to SMTP for a reader more than the bound after their unsubscribe or erasure committed",
    4: "no row left queued or sending: finished means every row final, cancelled means none queued/sending, "
       "a paused campaign resumed at the end finishes",
    5: "one consent log line per event (no repeated UNSUBSCRIBE/CONFIRM for one subscriber and list, "
       "one ERASE per address)",
    6: "the shared rate limit held: over any W seconds, messages <= rate*W + burst + 1",
    7: "a cancelled campaign handed nothing to SMTP more than the bound after its cancel committed",
    8: "nobody is put back by an import on a list they left, and nobody erased is stored again",
}


@dataclass
class StressConfig:
    seed: int
    readers: int = 200  # on the main list
    second_readers: int = 90  # on the second list; `overlap` of them are also on the main list
    overlap: int = 25
    workers: int = 3
    parallelism: int = 3
    # Below what the slow server takes from three connections (about 15 a second), so the limiter,
    # not the server, sets the pace and a limiter that lets too much through shows.
    rate: float = 8.0
    burst: int = 2
    lease_seconds: float = 2.0
    max_attempts: int = 3
    retry_base_seconds: float = 0.5
    tick_seconds: float = 1.0
    chaos_seconds: float = 40.0  # random operations for this long, or until the main campaign ends
    settle_seconds: float = 45.0  # then this long at most for everything to finish
    op_gap: tuple[float, float] = (0.05, 0.5)
    latency: float = 0.3  # every SMTP reply waits uniform(0, latency)
    p_temporary: float = 0.05  # 451 at RCPT
    flaky_share: float = 0.08  # readers whose RCPT gets 451 far more often
    p_flaky_temporary: float = 0.7
    p_throttle: float = 0.006  # 421 at RCPT
    p_slow: float = 0.02  # the 250 after DATA comes after `slow_seconds`
    slow_seconds: float = 3.0
    p_cancel_main: float = 0.0  # chance that the main campaign is cancelled too
    bound_seconds: float = 1.0  # invariants 3 and 7
    weights: dict[str, float] = field(default_factory=lambda: {
        "pause": 1.0, "retry-failed": 1.0, "unsubscribe": 5.0, "erase": 2.0, "import": 1.2, "tick": 1.5,
    })

    def env(self) -> dict[str, str]:
        return {
            "NEWSLETTER_SEND_RATE": str(self.rate),
            "NEWSLETTER_SEND_BURST": str(self.burst),
            "NEWSLETTER_SEND_LEASE_SECONDS": str(self.lease_seconds),
            "NEWSLETTER_SEND_MAX_ATTEMPTS": str(self.max_attempts),
            "NEWSLETTER_SEND_RETRY_BASE_SECONDS": str(self.retry_base_seconds),
            "NEWSLETTER_SEND_PARALLELISM": str(self.parallelism),
            "NEWSLETTER_TICK_SECONDS": str(self.tick_seconds),
        }


# --- the SMTP server ----------------------------------------------------------------------------


@dataclass
class Accepted:
    recipient: str
    message_id: str
    envelope_from: str
    handed_at: float  # MAIL FROM arrived (time.time())
    accepted_at: float  # the 250 after DATA was sent
    slow: bool

    @property
    def campaign_and_row(self) -> tuple[int, int] | None:
        found = _OUR_ID.match(self.message_id)
        return (int(found.group(1)), int(found.group(2))) if found else None


@dataclass
class Refusal:
    recipient: str
    code: str
    at: float


class ChaosHandler:
    """aiosmtpd handler: slow replies, some 451s, a few 421s, a few 250s later than the lease."""

    def __init__(self, config: StressConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.accepted: list[Accepted] = []
        self.refused: list[Refusal] = []
        self.attempts: list[float] = []  # MAIL FROM times of every transaction that reached RCPT
        self._handed: dict[int, float] = {}
        self._seen: Counter[str] = Counter()

    def _draw(self, recipient: str, what: str) -> random.Random:
        # Reproducible per reader and attempt, whatever order the workers' messages arrive in.
        return random.Random(f"{self.config.seed}:{recipient}:{self._seen[recipient]}:{what}")

    def flaky(self, recipient: str) -> bool:
        return random.Random(f"{self.config.seed}:flaky:{recipient}").random() < self.config.flaky_share

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        self._handed[id(session)] = time.time()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        config = self.config
        with self.lock:
            self._seen[address] += 1
            self.attempts.append(self._handed.get(id(session), time.time()))
            draw = self._draw(address, "rcpt")
        await asyncio.sleep(draw.uniform(0, config.latency / 3))
        roll = draw.random()
        reply = None
        if roll < config.p_throttle:
            reply = "421 4.7.0 Too many messages, slow down"
        elif draw.random() < (config.p_flaky_temporary if self.flaky(address) else config.p_temporary):
            reply = "451 4.3.0 Mailbox temporarily unavailable"
        if reply:
            with self.lock:
                self.refused.append(Refusal(address, reply[:3], time.time()))
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        config = self.config
        recipient = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        with self.lock:
            draw = self._draw(recipient, "data")
        slow = draw.random() < config.p_slow
        await asyncio.sleep(config.slow_seconds if slow else draw.uniform(0, config.latency))
        data = envelope.original_content or b""
        head = data.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(head)
        message_id = found.group(1).decode() if found else ""
        now = time.time()
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.accepted.append(Accepted(rcpt, message_id, envelope.mail_from or "",
                                              self._handed.get(id(session), now), now, slow))
            count = len(self.accepted)
        return f"250 2.0.0 accepted as message {count}"


class ChaosSmtpServer(SmtpServer):
    """`SmtpServer` (tests/smtp.py) with the chaos handler in place of the recording one."""

    def __init__(self, config: StressConfig) -> None:
        self.handler = ChaosHandler(config)  # type: ignore[assignment]
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     data_size_limit=10 * 1024 * 1024, ready_timeout=10)


# --- what happened in this process --------------------------------------------------------------


@dataclass
class Op:
    kind: str
    target: str  # an address, a campaign ("campaign 3") or a file
    started: float
    committed: float | None = None  # time.time() once the transaction's commit returned
    changed: Any = None
    error: str = ""


@dataclass
class Violation:
    invariant: int
    detail: str


@dataclass
class StressResult:
    config: StressConfig
    backend: str
    violations: list[Violation]
    figures: dict[str, Any]
    notes: list[str]

    def held(self) -> list[int]:
        failed = {v.invariant for v in self.violations}
        return [n for n in INVARIANTS if n not in failed]

    def report(self, limit: int = 12) -> str:
        lines = [f"stress run: backend {self.backend}, seed {self.config.seed} "
                 f"(repeat with NEWSLETTER_STRESS_SEED={self.config.seed})"]
        for key, value in self.figures.items():
            lines.append(f"  {key}: {value}")
        by_invariant: dict[int, list[Violation]] = defaultdict(list)
        for violation in self.violations:
            by_invariant[violation.invariant].append(violation)
        for number, words in INVARIANTS.items():
            found = by_invariant.get(number, [])
            lines.append(f"  [{'FAILED' if found else 'held'}] {number}. {words}"
                         + (f": {len(found)} violation(s)" if found else ""))
            for violation in found[:limit]:
                lines.append(f"      - {violation.detail}")
            if len(found) > limit:
                lines.append(f"      ... and {len(found) - limit} more")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)


# --- the run ------------------------------------------------------------------------------------


def _second_issue(settings: Settings) -> int:
    """Another approved issue (a copy of the example under its own slug), for the second campaign."""
    from newsletter.issues.yamlio import read_issue_file

    doc = read_issue_file(EXAMPLE, settings.media_dir)
    doc = doc.model_copy(update={"slug": SECOND_SLUG, "title": f"{doc.title}: reminder"})
    with session_scope() as session:
        issue = store.create_issue(session, doc)
        store.move(issue, IssueStatus.IN_REVIEW)
        store.move(issue, IssueStatus.APPROVED)
        return issue.id


class StressRun:
    def __init__(self, settings: Settings, folder: Path, redis_server: Redis, config: StressConfig,
                 log: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.folder = folder
        self.redis = redis_server
        self.config = config
        self.log = log
        self.rng = random.Random(config.seed)
        self.ops: list[Op] = []
        self.ops_lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.notes: list[str] = []
        self.stopped: dict[str, float] = {}  # address -> first commit of an unsubscribe or erasure
        self.unsubscribed: set[str] = set()
        self.erased: set[str] = set()
        self.cancelled: dict[int, float] = {}  # campaign -> commit time of its cancel
        self.paused_until: dict[int, float] = {}
        self.import_files = 0
        self.phase: dict[str, float] = {}

    # -- set-up --

    def setup(self) -> None:
        config = self.config
        approved_issue(self.settings)
        _second_issue(self.settings)
        main_list = make_list(MAIN_LIST, "SEND newsletter")
        second_list = make_list(SECOND_LIST, "Short breaks and activities")
        on_main = make_readers(main_list, config.readers)
        on_second = make_readers(second_list, config.second_readers, start=config.readers - config.overlap)
        from subscribers.models import MailingList, Subscriber

        with session_scope() as session:
            self.main = campaigns.create_campaign(session, store.get_issue(session, SLUG), [MAIN_LIST, SECOND_LIST],
                                                  self.settings).id
            self.second = campaigns.create_campaign(session, store.get_issue(session, SECOND_SLUG), [SECOND_LIST],
                                                    self.settings).id
            self.people = {email: (sid, key) for email, sid, key in
                           session.execute(select(Subscriber.email, Subscriber.id, Subscriber.token_key))}
            self.lists = list(session.scalars(select(MailingList).order_by(MailingList.id)))
            self.rows_at_start = {cid: session.scalar(select(func.count()).where(Delivery.campaign_id == cid))
                                  for cid in (self.main, self.second)}
        self.email_of = {sid: email for email, (sid, _) in self.people.items()}
        self.members = {main_list: {self.email_of[i] for i in on_main},
                        second_list: {self.email_of[i] for i in on_second}}
        self.list_ids = [lst.id for lst in self.lists]
        self.cancel_second_at = self.rng.uniform(0.2, 0.6)
        self.cancel_main = self.rng.random() < config.p_cancel_main
        self.cancel_main_at = self.rng.uniform(0.3, 0.8)

    # -- helpers for operations --

    def _record(self, op: Op) -> Op:
        with self.ops_lock:
            self.ops.append(op)
        return op

    def _stop(self, email: str, op: Op) -> None:
        if op.error or op.committed is None:
            return
        with self.ops_lock:
            self.stopped[email] = min(self.stopped.get(email, op.committed), op.committed)

    def _enqueue(self, campaign_id: int) -> None:
        """What `newsletter campaigns resume|retry-failed` does after its commit: hand the campaign to workers."""
        for _ in range(self.config.parallelism):
            self.celery.send_task("newsletter.work_on_campaign", args=[campaign_id])

    def _state(self, campaign_id: int) -> CampaignState:
        with session_scope() as session:
            return session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))

    def _steer(self, verb: str, campaign_id: int) -> Op:
        op = self._record(Op(verb, f"campaign {campaign_id}", time.time()))
        try:
            with session_scope() as session:
                if verb == "pause":
                    campaigns.pause(session, campaign_id)
                elif verb == "resume":
                    campaigns.resume(session, campaign_id)
                elif verb == "cancel":
                    campaigns.cancel(session, campaign_id)
                else:
                    op.changed = campaigns.retry_failed(session, campaign_id)
            op.committed = time.time()
        except Exception as error:  # refused (wrong state) or a database error: recorded, not fatal
            op.error = f"{type(error).__name__}: {error}"
            return op
        if verb in ("resume", "retry-failed"):
            self._enqueue(campaign_id)
        return op

    def _unsent_readers(self) -> list[str]:
        with session_scope() as session:
            ids = session.scalars(select(Delivery.subscriber_id).where(
                Delivery.campaign_id.in_([self.main, self.second]),
                Delivery.state.in_([DeliveryState.QUEUED.value, DeliveryState.SENDING.value])))
            return sorted({self.email_of[i] for i in ids if i in self.email_of} - set(self.stopped))

    def _pick_reader(self) -> str | None:
        candidates = self._unsent_readers() if self.rng.random() < 0.75 else []
        if not candidates:
            candidates = sorted(set(self.people) - self.erased)
        return self.rng.choice(candidates) if candidates else None

    def _one_click(self, email: str) -> Op:
        from subscribers.api import unsubscribe_url

        op = Op("one-click", email, time.time())
        try:
            _, key = self.people[email]
            path = urlsplit(unsubscribe_url(self.settings, SimpleNamespace(token_key=key), self.list_ids)).path
            response = self.app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
            op.committed = time.time()
            if response.status_code != 200:
                op.error = f"HTTP {response.status_code}"
        except Exception as error:
            op.error = f"{type(error).__name__}: {error}"
        return self._record(op)

    def _api_unsubscribe(self, email: str) -> Op:
        from subscribers import api

        op = Op("api-unsubscribe", email, time.time())
        try:
            with session_scope() as session:
                op.changed = api.record_unsubscribe(session, self.people[email][0], None, "one-click")
            op.committed = time.time()
        except Exception as error:
            op.error = f"{type(error).__name__}: {error}"
        return self._record(op)

    def _erase(self, email: str) -> Op:
        from subscribers.erasure import erase_email
        from subscribers.models import ConsentSource

        op = Op("erase", email, time.time())
        try:
            with session_scope() as session:
                erase_email(session, email, ConsentSource.ADMIN)
            op.committed = time.time()
        except Exception as error:
            op.error = f"{type(error).__name__}: {error}"
        return self._record(op)

    def _twice(self, action: Callable[[str], Op], email: str) -> list[Op]:
        """The same request twice at once (a double click, a provider retrying)."""
        results: list[Op] = []
        barrier = threading.Barrier(2)

        def go() -> None:
            barrier.wait()
            results.append(action(email))

        threads = [threading.Thread(target=go) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def _import(self) -> None:
        from subscribers.csv_import import import_csv

        self.import_files += 1
        number = self.import_files
        path = self.folder / f"import-{number}.csv"
        onto = self.rng.choice([[self.lists[0]], [self.lists[1]], list(self.lists)])
        # Known rows are readers who were on every list imported onto (some of whom have left it or
        # been erased since), so an import putting anyone back is a broken rule, not a new choice.
        members = sorted(set.intersection(*(self.members[lst.id] for lst in onto)))
        known = self.rng.sample(members, k=min(25, len(members)))
        new = [f"new{self.rng.randrange(60)}@example.org" for _ in range(15)]
        rows = [(e.capitalize() if self.rng.random() < 0.2 else e, f"Imported {e.split('@')[0]}") for e in known + new]
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Email address", "Name"])
            writer.writerows(rows)
        copies = 2 if self.rng.random() < 0.4 else 1

        barrier = threading.Barrier(copies)

        def run(copy: int) -> None:
            barrier.wait()
            op = Op("import", f"{path.name} copy {copy} onto {[lst.slug for lst in onto]}", time.time())
            try:
                report = import_csv(path, onto, session_scope, consent=CONSENT,
                                    problems_path=self.folder / f"import-{number}-{copy}-problems.csv")
                op.committed = time.time()
                op.changed = (report.added, report.confirmed, report.not_added_back)
            except Exception as error:
                op.error = f"{type(error).__name__}: {error}"
            self._record(op)

        threads = [threading.Thread(target=run, args=(copy,)) for copy in range(copies)]
        for thread in threads:
            thread.start()
        self.threads.extend(threads)

    def _tick(self) -> None:
        self._record(Op("tick", "beat task", time.time(), committed=time.time()))
        self.celery.send_task("newsletter.tick")

    # -- phases --

    def chaos(self) -> None:
        config = self.config
        started = time.time()
        kinds = list(config.weights)
        weights = [config.weights[k] for k in kinds]
        while time.time() - started < config.chaos_seconds:
            time.sleep(self.rng.uniform(*config.op_gap))
            now = time.time()
            for campaign_id, until in list(self.paused_until.items()):
                if now >= until:
                    del self.paused_until[campaign_id]
                    self._steer("resume", campaign_id)
            states = {cid: self._state(cid) for cid in (self.main, self.second)}
            if states[self.main] not in (CampaignState.RUNNING, CampaignState.PAUSED):
                break
            for cid, at, wanted in ((self.second, self.cancel_second_at, True),
                                    (self.main, self.cancel_main_at, self.cancel_main)):
                if wanted and cid not in self.cancelled and states[cid] in (CampaignState.RUNNING,
                                                                            CampaignState.PAUSED):
                    with session_scope() as session:
                        done = session.scalar(select(func.count()).where(
                            Delivery.campaign_id == cid, Delivery.state.in_([s.value for s in FINAL_STATES])))
                    if done >= at * self.rows_at_start[cid]:
                        op = self._steer("cancel", cid)
                        if not op.error and op.committed is not None:
                            self.cancelled[cid] = op.committed
                            self.paused_until.pop(cid, None)
            kind = self.rng.choices(kinds, weights)[0]
            if kind == "pause":
                running = [cid for cid, state in states.items() if state is CampaignState.RUNNING
                           and cid not in self.cancelled]
                if running:
                    cid = self.rng.choice(running)
                    op = self._steer("pause", cid)
                    if not op.error:
                        self.paused_until[cid] = time.time() + self.rng.uniform(0.3, 3.0)
            elif kind == "retry-failed":
                self._steer("retry-failed", self.rng.choice([self.main, self.second]))
            elif kind in ("unsubscribe", "erase"):
                email = self._pick_reader()
                if email is None:
                    continue
                if kind == "erase":
                    action = self._erase
                else:
                    action = self._one_click if self.rng.random() < 0.6 else self._api_unsubscribe
                done = self._twice(action, email) if self.rng.random() < 0.3 else [action(email)]
                for op in done:
                    self._stop(email, op)
                if any(not op.error for op in done):
                    (self.erased if kind == "erase" else self.unsubscribed).add(email)
            elif kind == "import":
                self._import()
            elif kind == "tick":
                self._tick()

    def settle(self) -> dict[str, Any]:
        """Let imports end, resume what is paused, and wait for both campaigns to end; report what stayed."""
        config = self.config
        for thread in self.threads:
            thread.join(timeout=120)
        for campaign_id in (self.main, self.second):
            if self._state(campaign_id) is CampaignState.PAUSED:
                self._steer("resume", campaign_id)
        self.paused_until.clear()
        # Retry-failed as the campaign ends (or just after): it must run again and finish again.
        self._steer("retry-failed", self.main)
        deadline = time.time() + config.settle_seconds
        ended = (CampaignState.FINISHED, CampaignState.CANCELLED)
        while time.time() < deadline:
            if all(self._state(cid) in ended for cid in (self.main, self.second)):
                break
            time.sleep(0.25)
        # A cancelled campaign's rows held by workers must be settled within a lease or two.
        grace = time.time() + 2 * config.lease_seconds + 2
        while time.time() < grace:
            if not self._unfinished_rows():
                break
            time.sleep(0.25)
        return self._snapshot()

    def _unfinished_rows(self) -> int:
        with session_scope() as session:
            return session.scalar(select(func.count()).where(
                Delivery.campaign_id.in_([self.main, self.second]),
                Delivery.state.in_([DeliveryState.QUEUED.value, DeliveryState.SENDING.value]))) or 0

    def _snapshot(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        with session_scope() as session:
            for cid in (self.main, self.second):
                state = session.scalar(select(Campaign.state).where(Campaign.id == cid))
                counts = dict(session.execute(select(Delivery.state, func.count()).where(Delivery.campaign_id == cid)
                                              .group_by(Delivery.state)).all())
                found[cid] = (state, {DeliveryState(k).value: v for k, v in counts.items()})
        return found

    # -- the whole run --

    def run(self) -> StressResult:
        config = self.config
        self.log(f"stress: seed {config.seed}, {self.settings.database_url.split(':')[0]}")
        t0 = time.time()
        self.setup()
        self.phase["set-up"] = time.time() - t0
        from celery import Celery

        from newsletter.web import create_app

        self.app = create_app(self.settings)
        self.celery = Celery("stress-client", broker=self.redis.url)
        smtp = ChaosSmtpServer(config)
        smtp.__enter__()
        processes = Processes(_env(self.settings, self.redis.url, smtp.url, **config.env()), self.folder)
        settled: dict[str, Any] = {}
        try:
            t1 = time.time()
            for n in range(config.workers):
                processes.worker(f"stress{n}")
            processes.beat()
            self.chaos()
            self.phase["random operations"] = time.time() - t1
            t2 = time.time()
            settled = self.settle()
            self.phase["settling"] = time.time() - t2
        finally:
            processes.stop_all()
            smtp.__exit__(None, None, None)
            self.celery.close()
        self.phase["total"] = time.time() - t0
        return self.check(smtp.handler, settled)  # type: ignore[arg-type]

    # -- the invariants --

    def check(self, server: ChaosHandler, settled: dict[str, Any]) -> StressResult:
        from subscribers.models import (ConsentAction, ConsentEntry, Subscriber, Subscription,
                                        SubscriptionStatus)

        config = self.config
        bound = config.bound_seconds
        violations: list[Violation] = []
        notes = list(self.notes)
        accepted = sorted(server.accepted, key=lambda a: a.handed_at)
        with session_scope() as session:
            rows = {r.id: r for r in session.execute(
                select(Delivery.id, Delivery.campaign_id, Delivery.subscriber_id, Delivery.state, Delivery.message_id,
                       Delivery.attempts).where(Delivery.campaign_id.in_([self.main, self.second])))}
            consent = session.execute(select(ConsentEntry.id, ConsentEntry.subscriber_id, ConsentEntry.list_id,
                                             ConsentEntry.email_hash, ConsentEntry.action, ConsentEntry.source)
                                      .order_by(ConsentEntry.id)).all()
            erased_back = list(session.scalars(select(Subscriber.email).where(
                Subscriber.email.in_(sorted(self.erased)))))
            confirmed_now = set(session.execute(select(Subscription.subscriber_id, Subscription.list_id).where(
                Subscription.status == SubscriptionStatus.CONFIRMED)).all())
        name = {self.main: "main", self.second: "second"}

        def when(t: float) -> str:
            return f"t+{t - self.t_start:.2f}s"

        self.t_start = min([op.started for op in self.ops] + [a.handed_at for a in accepted] + [time.time()])

        # 1. at most once per reader per campaign
        per_reader: dict[tuple[int | None, str], list[Accepted]] = defaultdict(list)
        for message in accepted:
            ids = message.campaign_and_row
            per_reader[(ids[0] if ids else None, message.recipient)].append(message)
        for (cid, recipient), got in sorted(per_reader.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
            if len(got) > 1:
                violations.append(Violation(1, (
                    f"{recipient} got {len(got)} messages of campaign {cid} ({name.get(cid, '?')}): "
                    + ", ".join(f"{m.message_id} handed {when(m.handed_at)} accepted {when(m.accepted_at)}"
                                + (" (slow reply)" if m.slow else "") for m in got))))

        # 2. the ledger agrees with the SMTP server
        by_message_id: dict[str, list[Accepted]] = defaultdict(list)
        for message in accepted:
            by_message_id[message.message_id].append(message)
        for row in rows.values():
            if row.state is DeliveryState.SENT:
                got = by_message_id.get(row.message_id, [])
                if len(got) != 1:
                    violations.append(Violation(2, f"row {row.id} (campaign {row.campaign_id}, "
                                                   f"{self.email_of.get(row.subscriber_id, 'erased reader')}) is sent "
                                                   f"with {row.message_id or 'no Message-ID'} but the server accepted "
                                                   f"{len(got)} message(s) with it"))
                elif row.subscriber_id is not None and got[0].recipient != self.email_of.get(row.subscriber_id):
                    violations.append(Violation(2, f"row {row.id} is sent to {self.email_of.get(row.subscriber_id)} "
                                                   f"but its message went to {got[0].recipient}"))
        seen_rows: set[int] = set()
        for message in accepted:
            ids = message.campaign_and_row
            if ids is None:
                violations.append(Violation(2, f"accepted message to {message.recipient} has a Message-ID that is "
                                               f"not ours: {message.message_id!r}"))
                continue
            if ids[1] in seen_rows:
                continue  # the same row sent twice: reported under 1 and above
            seen_rows.add(ids[1])
            row = rows.get(ids[1])
            if row is None:
                gone = " (the reader was erased: their delivery row was deleted)" if message.recipient in self.erased \
                    else ""
                violations.append(Violation(2, f"message {message.message_id} to {message.recipient} accepted "
                                               f"{when(message.accepted_at)} has no delivery row{gone}"))
            elif row.state is not DeliveryState.SENT:
                violations.append(Violation(2, f"message {message.message_id} to {message.recipient} accepted "
                                               f"{when(message.accepted_at)} but its row is {row.state.value} "
                                               f"(attempts {row.attempts})"))

        # 3. unsubscribe and erasure take effect for everything not yet handed to SMTP.
        # One exception is allowed by the rules: an import with consent may put someone on a list
        # they never left (a one-click leaves only the lists they were on), and the main campaign
        # goes to that list too. Such readers are left out of this check for that campaign.
        rejoined_legitimately: set[tuple[int, str]] = set()
        left: set[tuple[int, int]] = set()
        campaign_lists_of = {self.main: set(self.list_ids), self.second: {self.list_ids[1]}}
        for line in consent:
            if line.subscriber_id is None or line.list_id is None:
                continue
            if line.action is ConsentAction.UNSUBSCRIBE:
                left.add((line.subscriber_id, line.list_id))
            elif line.action is ConsentAction.CONFIRM and (line.subscriber_id, line.list_id) not in left:
                email = self.email_of.get(line.subscriber_id)
                if email in self.stopped:
                    for cid, lists in campaign_lists_of.items():
                        if line.list_id in lists:
                            rejoined_legitimately.add((cid, email))
        late_in_flight = 0
        latest_after_stop: float | None = None  # the latest handover after a stop, if any came after one
        exempted = set()
        for message in accepted:
            stop = self.stopped.get(message.recipient)
            if stop is None:
                continue
            key = ((message.campaign_and_row or (0, 0))[0], message.recipient)
            if key in rejoined_legitimately:
                exempted.add(key)
                continue
            how = "erasure" if message.recipient in self.erased else "unsubscribe"
            if message.handed_at > stop:
                latest_after_stop = max(latest_after_stop or 0.0, message.handed_at - stop)
            if message.handed_at > stop + bound:
                violations.append(Violation(3, f"{message.recipient}: {how} committed {when(stop)}, message "
                                               f"{message.message_id} handed to SMTP {message.handed_at - stop:.2f}s "
                                               f"later (accepted {message.accepted_at - stop:.2f}s later)"))
            elif message.accepted_at > stop + bound:
                late_in_flight += 1
        if exempted:
            notes.append(f"{len(exempted)} reader(s) left out of invariant 3: after their unsubscribe an import "
                         "confirmed them on another list of that campaign, one they had never left")
        if late_in_flight:
            notes.append(f"{late_in_flight} message(s) were handed to SMTP within {bound}s of an unsubscribe or "
                         f"erasure but accepted more than {bound}s after it (a slow reply already in flight); "
                         "not counted as violations")

        documented = 0.5  # README: leaving, pause and cancel take effect within 0.5 s
        if latest_after_stop is not None and documented < latest_after_stop <= bound:
            notes.append(f"a message went {latest_after_stop:.2f}s after an unsubscribe or erasure: within this "
                         f"test's {bound:g}s bound, beyond the {documented:g}s the README states")

        # 4. nothing stranded
        for cid, (state, counts) in settled.items():
            stuck = {k: v for k, v in counts.items() if k in ("queued", "sending") and v}
            label = f"campaign {cid} ({name[cid]})"
            if state is CampaignState.FINISHED and stuck:
                violations.append(Violation(4, f"{label} is finished with rows {stuck}; all rows {counts}"))
            elif state is CampaignState.CANCELLED and stuck:
                violations.append(Violation(4, f"{label} is cancelled with rows {stuck} left "
                                               f"{2 * config.lease_seconds + 2:.0f}s after it ended; all rows {counts}"))
            elif state not in (CampaignState.FINISHED, CampaignState.CANCELLED):
                violations.append(Violation(4, f"{label} is still {state.value} {config.settle_seconds:.0f}s after "
                                               f"the random operations stopped (resumed if paused); rows {counts}"))
        if self.second not in self.cancelled:
            notes.append("the second campaign was not cancelled (it ended before its cancel point, never reached it, "
                         "or the cancel was refused): invariant 7 not exercised")

        # 5. consent lines: one per event
        runs: dict[tuple[int, int], list[Any]] = defaultdict(list)
        erase_lines: Counter[str] = Counter()
        for line in consent:
            if line.action is ConsentAction.ERASE and line.email_hash:
                erase_lines[line.email_hash] += 1
            if line.subscriber_id is None or line.list_id is None:
                continue
            if line.action in (ConsentAction.CONFIRM, ConsentAction.UNSUBSCRIBE, ConsentAction.SUBSCRIBE):
                runs[(line.subscriber_id, line.list_id)].append(line)
        for (sid, lid), lines in sorted(runs.items()):
            for before, after in zip(lines, lines[1:]):
                if before.action is after.action and after.action in (ConsentAction.CONFIRM, ConsentAction.UNSUBSCRIBE):
                    violations.append(Violation(5, f"{self.email_of.get(sid, f'subscriber {sid}')}, list {lid}: two "
                                                   f"{after.action.value.upper()} lines in a row (ids {before.id} "
                                                   f"{before.source.value}, {after.id} {after.source.value})"))
        for hashed, n in erase_lines.items():
            if n > 1:
                violations.append(Violation(5, f"{n} ERASE lines for one address (hash {hashed[:12]}...)"))

        # 6. the shared rate limit
        handed = [m.handed_at for m in accepted]
        for window in (1.0, 2.0, 5.0, 10.0):
            allowed = config.rate * window + config.burst + 1
            worst, at = _busiest(handed, window)
            if worst > allowed:
                violations.append(Violation(6, f"{worst} messages handed to SMTP and accepted in {window:.0f}s from "
                                               f"{when(at)} (limit {config.rate:g}/s, burst {config.burst}: at most "
                                               f"{allowed:.0f})"))
        tried_worst, _ = _busiest(sorted(server.attempts), 1.0)
        accepted_worst, _ = _busiest(handed, 1.0)

        # 7. cancel stops sending
        latest_after_cancel = None
        for cid, at in self.cancelled.items():
            after = [m.handed_at - at for m in accepted
                     if (m.campaign_and_row or (0, 0))[0] == cid and m.handed_at > at]
            if after:
                latest_after_cancel = max([latest_after_cancel or 0.0, *after])
            late = [m for m in accepted if (m.campaign_and_row or (0, 0))[0] == cid and m.handed_at > at + bound]
            if after and documented < max(after) <= bound:
                notes.append(f"a message of the cancelled campaign went {max(after):.2f}s after the cancel: within "
                             f"this test's {bound:g}s bound, beyond the {documented:g}s the README states")
            if late:
                violations.append(Violation(7, f"campaign {cid} ({name[cid]}) cancelled {when(at)}, then "
                                               f"{len(late)} message(s) handed to SMTP more than {bound}s later, "
                                               f"the last {late[-1].handed_at - at:.2f}s after"))

        # 8. nobody brought back
        for email in erased_back:
            violations.append(Violation(8, f"{email} was erased but is a subscriber again at the end"))
        for sid, lid in sorted(left & confirmed_now):
            how = [f"{line.action.value} ({line.source.value})" for line in runs.get((sid, lid), [])]
            violations.append(Violation(8, f"{self.email_of.get(sid, f'subscriber {sid}')} left list {lid} but is "
                                           f"confirmed on it at the end; consent log for it: {', '.join(how)}"))

        errors = Counter(op.kind + ": " + op.error.split(":")[0] for op in self.ops if op.error)
        span = (accepted[-1].handed_at - accepted[0].handed_at) if len(accepted) > 1 else 0.0
        figures = {
            "phases (s)": ", ".join(f"{k} {v:.1f}" for k, v in self.phase.items()),
            "readers": f"{len(self.people)} ({self.rows_at_start[self.main]} rows main, "
                       f"{self.rows_at_start[self.second]} rows second)",
            "config": f"{config.workers} workers, parallelism {config.parallelism}, rate {config.rate:g}/s, "
                      f"burst {config.burst}, lease {config.lease_seconds:g}s, slow replies {config.slow_seconds:g}s",
            "SMTP": f"{len(accepted)} accepted ({sum(m.slow for m in accepted)} slow), "
                    f"{sum(r.code == '451' for r in server.refused)} x 451, "
                    f"{sum(r.code == '421' for r in server.refused)} x 421; "
                    f"{len(accepted) / span if span else 0:.1f}/s over {span:.1f}s",
            "margins": f"latest handover after a reader's unsubscribe/erasure {_seconds(latest_after_stop)}, after "
                       f"a cancel {_seconds(latest_after_cancel)} (bound "
                       f"{bound:g}s); busiest second {accepted_worst} accepted, {tried_worst} tried (limit "
                       f"{config.rate * 1 + config.burst + 1:.0f})",
            "operations": ", ".join(f"{k} {v}" for k, v in sorted(Counter(op.kind for op in self.ops).items())),
            "operation errors": ", ".join(f"{k} x{v}" for k, v in sorted(errors.items())) or "none",
            "end state": "; ".join(f"{name[cid]} {state.value if state else '?'} {counts}"
                                   for cid, (state, counts) in settled.items()),
            "worker log errors": _log_errors(self.folder),
        }
        backend = self.settings.database_url.split(":")[0].split("+")[0]
        return StressResult(config, backend, violations, figures, notes)


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f}s"


def _log_errors(folder: Path) -> str:
    """How many tracebacks the workers and beat logged, with the commonest error lines."""
    tracebacks = 0
    lines: Counter[str] = Counter()
    for path in folder.glob("*.log"):
        text = path.read_text(errors="replace")
        # Stopping the workers at the end (SIGTERM to each process group) ends their pool children.
        tracebacks += text.count("Traceback") - text.count("exited prematurely: signal 15 (SIGTERM)")
        for line in text.splitlines():
            if "signal 15 (SIGTERM)" in line:
                continue
            found = re.match(r"^(\w+(?:\.\w+)*(?:Error|Exception|Lost\w*)): (.{0,120})", line)
            if found:
                lines[f"{found.group(1)}: {found.group(2)}"] += 1
    if not tracebacks:
        return "none"
    common = "; ".join(f"{line} x{n}" for line, n in lines.most_common(3))
    return f"{tracebacks} tracebacks ({common})"


def _busiest(stamps: list[float], window: float) -> tuple[int, float]:
    """The most stamps in any half-open window of `window` seconds, and where it starts."""
    worst, at, j = 0, stamps[0] if stamps else 0.0, 0
    for i, start in enumerate(stamps):
        while j < len(stamps) and stamps[j] < start + window:
            j += 1
        if j - i > worst:
            worst, at = j - i, start
    return worst, at


def run_stress(settings: Settings, folder: Path, redis_server: Redis, config: StressConfig,
               log: Callable[[str], None] = print) -> StressResult:
    return StressRun(settings, folder, redis_server, config, log).run()
