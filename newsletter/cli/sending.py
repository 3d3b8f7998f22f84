"""`newsletter send`, `newsletter send-test`, `newsletter campaigns ...` and `newsletter bounces process`."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import click

from newsletter import localtime
from newsletter.cli.environment import settings


def _parse_at(value: str | None) -> datetime | None:
    """--at on the team's clock (NEWSLETTER_TIMEZONE), as in the composer, unless it carries its own offset."""
    if value is None:
        return None
    try:
        return localtime.parse(value)
    except localtime.InvalidTime as invalid:
        raise click.BadParameter(str(invalid)) from None


def _show(progress) -> str:  # type: ignore[no-untyped-def]
    from newsletter.delivery.models import DeliveryState

    counts = progress.counts
    parts = [f"{state.value} {counts.get(state, 0)}" for state in DeliveryState]
    eta = "-" if progress.seconds_left is None else f"{progress.seconds_left:.0f}s"
    line = (f"campaign {progress.campaign_id}: {progress.state.value}; " + ", ".join(parts)
            + f"; {progress.rate_per_second:.1f}/s; time left {eta}")
    if progress.recipients_removed_at is not None:
        line += (f"\nwho it went to was forgotten on {progress.recipients_removed_at:%Y-%m-%d} "
                 "(NEWSLETTER_DELIVERY_RETENTION_DAYS after it ended); the counts stay")
    if progress.failure_reason:
        line += (f"\nstopped because {progress.failure_reason}\n"
                 f"Put it right, then `newsletter campaigns resume {progress.campaign_id}`.")
    return line


def _wait(campaign_id: int) -> None:
    """Follow a campaign to the end with a progress bar (sending in this process on the embedded default)."""
    from newsletter.db import session_scope
    from newsletter.delivery import campaigns
    from newsletter.delivery.models import CampaignState

    current = settings()
    final = {CampaignState.FINISHED, CampaignState.CANCELLED, CampaignState.PAUSED, CampaignState.FAILED}

    def snapshot():  # type: ignore[no-untyped-def]
        with session_scope() as session:
            return campaigns.progress(session, campaign_id)

    first = snapshot()
    with click.progressbar(length=max(1, first.total), label=f"Sending campaign {campaign_id}",
                           show_pos=True, file=sys.stderr) as bar:
        shown = 0

        def update() -> None:
            nonlocal shown
            now = snapshot()
            bar.update(now.done - shown)
            shown = now.done

        def done() -> bool:
            return snapshot().state in final

        if current.redis_url is None:
            from newsletter.delivery.embedded import EmbeddedRunner

            runner = EmbeddedRunner(current)
            try:
                runner.run_until(done, on_step=update)
            finally:
                runner.close()
        else:
            while not done():
                update()
                time.sleep(0.5)
        update()
    click.echo(_show(snapshot()))


def _terminal_user() -> str:
    """Who ran a command, for the log: the login name at the terminal."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry for this uid, as in some containers
        return "cli"


def _start_workers(campaign_id: int) -> None:
    """Where Celery workers run, tell them; on the embedded default the serving process finds the campaign."""
    if settings().redis_url is not None:
        from newsletter.delivery import tasks

        tasks.start(campaign_id)


@click.command()
@click.argument("slug")
@click.option("--list", "lists", multiple=True, required=True, help="A list to send to (repeat for more).")
@click.option("--at", "at", help="Send at this time, on the team's clock (NEWSLETTER_TIMEZONE), such as 2026-12-01T09:00; in the past or omitted: now.")
@click.option("--wait", is_flag=True, help="Follow the send to the end with a progress bar.")
def send(slug: str, lists: tuple[str, ...], at: str | None, wait: bool) -> None:
    """Send an approved issue to one or more lists, now or at a set time."""
    from newsletter.db import session_scope
    from newsletter.delivery import campaigns
    from newsletter.delivery.models import CampaignState
    from newsletter.issues import store

    current = settings()
    current.refuse_development_secret_off_loopback()
    with session_scope() as session:
        campaign = campaigns.create_campaign(
            session, store.get_issue(session, slug), lists, current, send_at=_parse_at(at), created_by="cli"
        )
        campaign_id, state = campaign.id, campaign.state
        total = campaigns.progress(session, campaign_id).total
    when = "now" if state is CampaignState.RUNNING else f"at {localtime.shown(_parse_at(at), '%Y-%m-%d %H:%M')}"
    click.echo(f"Campaign {campaign_id}: {slug!r} to {total} recipients on {', '.join(lists)}, {when}.")
    if state is CampaignState.RUNNING:
        _start_workers(campaign_id)
    if wait:
        _wait(campaign_id)


@click.command("send-test")
@click.argument("slug")
@click.option("--to", "to", multiple=True, required=True,
              help="An address to send the test to (repeat; at most NEWSLETTER_TEST_SEND_MAX_ADDRESSES, 10).")
def send_test(slug: str, to: tuple[str, ...]) -> None:
    """Send a test copy of an issue (any status) to one or more addresses."""
    from newsletter.db import session_scope
    from newsletter.delivery.testsend import send_test_copies

    with session_scope() as session:
        for line in send_test_copies(session, slug, list(to), settings(), sent_by=_terminal_user()):
            click.echo(line)


# --- campaigns ----------------------------------------------------------------------------------


@click.group("campaigns")
def campaigns() -> None:
    """Follow and steer campaigns: progress, report, pause, resume, cancel, retry failed."""


@campaigns.command("list")
def campaigns_list() -> None:
    """Every campaign with its issue, state and progress."""
    from newsletter.db import session_scope
    from newsletter.delivery import campaigns as service

    with session_scope() as session:
        rows = service.list_campaigns(session)
        if not rows:
            click.echo("No campaigns yet. Start one with `newsletter send SLUG --list LIST`.")
        for campaign in rows:
            progress = service.progress(session, campaign.id)
            click.echo(f"{campaign.id:5}  {campaign.state.value:10}  {progress.done}/{progress.total}  "
                       f"{campaign.issue.slug}")


@campaigns.command("show")
@click.argument("campaign_id", type=int)
@click.option("--wait", is_flag=True, help="Follow it to the end with a progress bar.")
def campaigns_show(campaign_id: int, wait: bool) -> None:
    """Counts per state, rate and estimated time left."""
    from newsletter.db import session_scope
    from newsletter.delivery import campaigns as service

    with session_scope() as session:
        click.echo(_show(service.progress(session, campaign_id)))
    if wait:
        _wait(campaign_id)


def _steer(verb: str, campaign_id: int) -> None:
    """pause, resume, cancel or retry-failed, then say the campaign's state."""
    from newsletter.db import session_scope
    from newsletter.delivery import campaigns as service

    with session_scope() as session:
        if verb == "retry-failed":
            count = service.retry_failed(session, campaign_id)
            click.echo(f"Queued {count} failed deliveries again.")
        else:
            getattr(service, verb)(session, campaign_id)
        state = service.get_campaign(session, campaign_id).state.value
    click.echo(f"Campaign {campaign_id} is {state}.")
    if verb in ("resume", "retry-failed"):
        _start_workers(campaign_id)


@campaigns.command("report")
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON, for other tools.")
def campaigns_report(campaign_id: int, as_json: bool) -> None:
    """Delivered, bounced, failed, unsubscribed, web page visits, clicks per link, feedback and polls."""
    import json

    from newsletter.counts.report import campaign_report
    from newsletter.db import session_scope

    with session_scope() as session:
        report = campaign_report(session, campaign_id)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"Campaign {report.campaign_id}: {report.issue_title} ({report.state})")
    section = None
    for what, which, count in report.rows():
        heading = what if which else None
        if heading != section and heading is not None:
            click.echo(f"{heading}:")
        section = heading
        click.echo(f"  {count:>7}  {which}" if which else f"  {count:>7}  {what}")
    click.echo(f"\n{report.as_dict()['note']}")


@campaigns.command("pause")
@click.argument("campaign_id", type=int)
def campaigns_pause(campaign_id: int) -> None:
    """Stop sending within seconds; resume continues where it stopped."""
    _steer("pause", campaign_id)


@campaigns.command("resume")
@click.argument("campaign_id", type=int)
def campaigns_resume(campaign_id: int) -> None:
    """Continue a paused campaign."""
    _steer("resume", campaign_id)


@campaigns.command("cancel")
@click.argument("campaign_id", type=int)
def campaigns_cancel(campaign_id: int) -> None:
    """Stop for good; what was sent stays sent."""
    _steer("cancel", campaign_id)


@campaigns.command("retry-failed")
@click.argument("campaign_id", type=int)
def campaigns_retry_failed(campaign_id: int) -> None:
    """Queue only the failed deliveries again."""
    _steer("retry-failed", campaign_id)


# --- bounces ------------------------------------------------------------------------------------


@click.group("bounces")
def bounces() -> None:
    """Process bounce and complaint reports that arrive after sending."""


@bounces.command("process")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def bounces_process(path: Path) -> None:
    """Read DSNs and complaint reports from a maildir folder or an mbox file."""
    from newsletter.delivery.bounces import process_mailbox

    report = process_mailbox(path, settings())
    click.echo(report.summary())
    for problem in report.problems:
        click.echo(f"  could not read {problem}", err=True)
