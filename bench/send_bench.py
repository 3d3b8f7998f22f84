"""Send to many subscribers through the whole pipeline, and compare with a plain smtplib loop.

Run by hand (figures go in docs/performance.md):

    .venv/bin/python bench/send_bench.py --recipients 100000 --workers 2

It needs PostgreSQL at 127.0.0.1:5432 (database `test`), the `redis-server` binary and Postfix's
`smtp-sink` (Debian package `postfix`; `scripts/install-test-deps` installs it). It creates its own
schema, Redis and sink on free ports, and removes them afterwards.

Measured:
1. the plain loop: the same number of pre-built messages over one smtplib connection;
2. the pipeline: `newsletter send` creating the campaign, then N Celery workers on Redis claiming
   batches from PostgreSQL, building each reader's message and sending to the sink, until every
   delivery row is final; with the workers' peak memory.
"""

from __future__ import annotations

import argparse
import os
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgresql+psycopg://127.0.0.1:5432/test"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 10) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def peak_rss_kb(pids: list[int]) -> int:
    """Peak resident memory (VmHWM) of the given processes and their children."""
    total = 0
    for pid in pids:
        for candidate in [pid, *children(pid)]:
            try:
                for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total = max(total, int(line.split()[1]))
            except OSError:
                pass
    return total


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="send-bench-"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = f"{PG}?options=-csearch_path%3D{schema}"
    sink_port, redis_port = free_port(), free_port()
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": url, "NEWSLETTER_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{sink_port}", "NEWSLETTER_SEND_RATE": "100000",
           "NEWSLETTER_SEND_BURST": "5000", "NEWSLETTER_SEND_BATCH_SIZE": "500", "NEWSLETTER_SEND_PARALLELISM":
           str(args.workers), "NEWSLETTER_TICK_SECONDS": "1", "NEWSLETTER_BASE_URL": "https://news.example.org",
           "NEWSLETTER_FROM_ADDRESS": "Local Offer Team <news@example.org>", "NEWSLETTER_MEDIA_DIR": str(folder / "media"),
           "NEWSLETTER_SECRET_KEY": "benchmark-secret-key-0123456789", "PYTHONPATH": str(ROOT),
           # A council's own details: the example theme's placeholders stop a send, as they should.
           "NEWSLETTER_THEME_FILE": str(ROOT / "tests" / "data" / "theme.yaml")}
    os.environ.update(env)

    from sqlalchemy import create_engine, text

    admin = create_engine(PG)
    with admin.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "nobody", f"127.0.0.1:{sink_port}", "1000"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        processes.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save",
                                           "", "--appendonly", "no", "--dir", str(folder)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(sink_port)
        wait_port(redis_port)
        from newsletter.migrate import upgrade

        upgrade(url)
        from tests.delivery.conftest import approved_issue, make_list, make_readers

        from newsletter.config import get_settings

        settings = get_settings()
        approved_issue(settings)
        list_id = make_list()
        t = time.perf_counter()
        for start in range(0, args.recipients, 10_000):
            make_readers(list_id, min(10_000, args.recipients - start), start=start)
        print(f"set-up: {args.recipients:,} confirmed readers inserted in {time.perf_counter() - t:.1f} s")

        # 1. The plain loop: pre-built messages (one reader's real message) over one connection.
        from newsletter.db import session_scope
        from newsletter.delivery.mime import PreparedMessage, Recipient
        from newsletter.issues import service, store
        from newsletter.theme import get_theme

        with session_scope() as session:
            issue = store.get_issue(session, "co-production-week-2026")
            rendered = service.rendered(issue, get_theme(), settings)
            subject = issue.subject
        prepared = PreparedMessage(rendered, subject=subject, from_address=settings.from_address, language="en-GB",
                                   list_id="send-news.example.org", list_name="SEND newsletter", campaign_id=0,
                                   domain="example.org")
        message = prepared.build(Recipient(1, "reader1@example.org", "Reader", "https://news.example.org/u/x",
                                           "unsubscribe+x@example.org", "https://news.example.org/p/x"))
        connection = smtplib.SMTP("127.0.0.1", sink_port)
        t = time.perf_counter()
        for n in range(args.recipients):
            connection.sendmail("bounces@example.org", [f"reader{n}@example.org"], message)
        plain_seconds = time.perf_counter() - t
        connection.quit()
        plain_rate = args.recipients / plain_seconds
        print(f"plain smtplib loop: {args.recipients:,} messages of {len(message) / 1024:.0f} KB in "
              f"{plain_seconds:.1f} s = {plain_rate:,.0f}/s")

        # 2. The pipeline.
        workers = []
        for n in range(args.workers):
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "worker", "worker", "--concurrency=1", "--loglevel=WARNING",
                 f"--hostname=bench{n}@%h", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=env, stdout=open(folder / f"worker{n}.log", "wb"), stderr=subprocess.STDOUT,
                start_new_session=True))
        processes.extend(workers)
        processes.append(subprocess.Popen([sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel=WARNING",
                                           f"--schedule={folder / 'beat'}"], cwd=ROOT, env=env,
                                          stdout=open(folder / "beat.log", "wb"), stderr=subprocess.STDOUT,
                                          start_new_session=True))
        # The clock starts when every worker answers, so start-up is not counted as sending time.
        from newsletter.delivery.celery_app import make_celery

        celery_app = make_celery()

        ready = time.monotonic() + 60
        while len(celery_app.control.ping(timeout=0.5)) < args.workers:
            if time.monotonic() > ready:
                raise RuntimeError("the workers did not answer within 60 s")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "newsletter.cli", "send", "co-production-week-2026", "--list",
                        "send-news"], cwd=ROOT, env=env, check=True)
        created = time.perf_counter() - t
        from newsletter.delivery.models import Campaign, CampaignState

        peak = 0
        while True:
            with session_scope() as session:
                campaign = session.query(Campaign).one()
                if campaign.state is CampaignState.FINISHED:
                    break
            peak = max(peak, peak_rss_kb([w.pid for w in workers]))
            time.sleep(0.5)
        pipeline_seconds = time.perf_counter() - t
        with session_scope() as session:
            from newsletter.delivery import campaigns

            counts = campaigns.progress(session, campaign.id).counts
        pipeline_rate = args.recipients / pipeline_seconds
        print(f"pipeline: campaign created in {created:.1f} s; all {args.recipients:,} rows final in "
              f"{pipeline_seconds:.1f} s = {pipeline_rate:,.0f}/s with {args.workers} workers")
        print(f"  rows: {', '.join(f'{k.value} {v}' for k, v in counts.items() if v)}")
        print(f"  peak worker memory (largest process): {peak / 1024:.0f} MB")
        print(f"ratio pipeline / plain loop: {pipeline_rate / plain_rate:.2f}")
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM) if process.pid else None
            except (ProcessLookupError, PermissionError):
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        with admin.begin() as connection:
            connection.execute(text(f'drop schema "{schema}" cascade'))


if __name__ == "__main__":
    main()
