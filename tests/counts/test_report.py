"""The campaign report: delivery figures, "unsubscribed because of this issue" from the consent log,
web-view visits, the command (`campaigns report --json`) and the team's CSV download."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.accounts import service as accounts
from newsletter.accounts.models import Role
from newsletter.config import Settings
from newsletter.counts.report import CAVEAT, campaign_report
from newsletter.db import session_scope
from newsletter.delivery import campaigns
from newsletter.delivery.transport import SmtpTransport
from newsletter.issues import service, store
from newsletter.issues.models import IssueStatus
from newsletter.web import create_app

from tests.conftest import EXAMPLE
from tests.counts.conftest import BROWSER, SLUG, Served, send_to_readers
from tests.delivery.conftest import run_to_end
from tests.smtp import SmtpServer
from tests.web.conftest import PASSWORD, TeamClient


def _unsubscribe_path(raw_message) -> str:  # type: ignore[no-untyped-def]
    return str(raw_message.message["List-Unsubscribe"]).split(">")[0].lstrip("<").removeprefix("https://news.example.org")


def _second_issue(settings: Settings, tmp_path: Path) -> int:
    """Another approved issue (the example under another slug), sent to the same list."""
    copy = tmp_path / "second.yaml"
    copy.write_text(EXAMPLE.read_text(encoding="utf-8").replace("slug: co-production-week-2026",
                                                                 "slug: second-issue"), encoding="utf-8")
    for media in (EXAMPLE.parent / "media").iterdir():
        (tmp_path / "media").mkdir(exist_ok=True)
        (tmp_path / "media" / media.name).write_bytes(media.read_bytes())
    with session_scope() as session:
        issue, _ = service.import_issue(session, copy, settings)
        store.move(issue, IssueStatus.IN_REVIEW)
        store.move(issue, IssueStatus.APPROVED)
        return campaigns.create_campaign(session, issue, ["send-news"], settings).id


def test_unsubscribes_are_put_down_to_the_issue_they_came_from(fast: Settings, tmp_path: Path) -> None:
    from subscribers import api

    first, messages = send_to_readers(fast, 6)
    client = create_app(fast).test_client()
    by_reader = {item.recipients[0]: item for item in messages}
    one_click = dict(data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert client.post(_unsubscribe_path(by_reader["reader0@example.org"]), **one_click).status_code == 200
    # Pressing the button on the page the link opens counts too; a repeated POST is one person.
    page = _unsubscribe_path(by_reader["reader1@example.org"])
    assert client.post(page, data={"List-Unsubscribe": "One-Click", "from": "page"}).status_code in (200, 303)
    assert client.post(page, **one_click).status_code == 200
    with session_scope() as session:
        # Leaving from the preference centre is not tied to one email: not put down to this issue.
        reader2 = api.get_subscriber(session, "reader2@example.org")
        api.record_unsubscribe(session, reader2.id, None, "preference-centre")
    with session_scope() as session:
        assert campaign_report(session, first).unsubscribed == 2

    second = _second_issue(fast, tmp_path)
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(fast, second, transport)
        transport.close()
    later = {item.recipients[0]: item for item in server.messages}
    assert set(later) == {f"reader{n}@example.org" for n in (3, 4, 5)}
    assert client.post(_unsubscribe_path(later["reader3@example.org"]), **one_click).status_code == 200
    with session_scope() as session:
        assert campaign_report(session, first).unsubscribed == 2, "a later issue's unsubscribe is not the first's"
        report = campaign_report(session, second)
        assert report.unsubscribed == 1 and report.delivered == 3 and report.bounced == report.failed == 0


def test_the_command_prints_the_report_as_json(fast: Settings, served: Served) -> None:
    from newsletter.cli import main

    campaign_id, messages = send_to_readers(fast, 3)
    served.open(f"https://news.example.org/issues/{SLUG}")
    served.open(f"https://news.example.org/issues/{SLUG}", method="HEAD")
    served.open(f"https://news.example.org/issues/{SLUG}", agent=None)
    html = messages[0].message.get_body(("html",)).get_content()
    survey = next(part.split('"')[0] for part in html.split('href="')[1:]
                  if "/r/" in part and served.open(part.split('"')[0], method="HEAD").headers["Location"]
                  == "https://www.example.org/localoffer/survey")
    for _ in range(2):
        served.open(survey)
    result = CliRunner().invoke(main, ["campaigns", "report", str(campaign_id), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {key: report[key] for key in ("delivered", "bounced", "failed", "unsubscribed", "web_views")} == {
        "delivered": 3, "bounced": 0, "failed": 0, "unsubscribed": 0, "web_views": 1}
    assert {"url": "https://www.example.org/localoffer/survey", "count": 2} in report["clicks"]
    assert all(set(link) == {"url", "count"} for link in report["clicks"]) and len(report["clicks"]) >= 15
    assert report["clicks"][0]["url"] == "https://www.example.org/localoffer", "in the order of the email"
    assert report["feedback"] == {"useful": 0, "not_useful": 0, "comments": 0}
    assert report["polls"] == [] and report["note"] == CAVEAT
    words = CliRunner().invoke(main, ["campaigns", "report", str(campaign_id)])
    assert words.exit_code == 0 and "Delivered" in words.output and "localoffer/survey" in words.output
    assert "no open pixel" in words.output
    missing = CliRunner().invoke(main, ["campaigns", "report", "9999"])
    assert missing.exit_code != 0 and "no campaign 9999" in missing.output


def test_web_view_visits_leave_out_the_team_and_robots(fast: Settings) -> None:
    campaign_id, _ = send_to_readers(fast, 1)
    app = create_app(fast)
    reader = app.test_client()
    for _ in range(3):
        assert reader.get(f"/issues/{SLUG}", headers={"User-Agent": BROWSER}).status_code == 200
    assert reader.head(f"/issues/{SLUG}", headers={"User-Agent": BROWSER}).status_code == 200
    assert reader.get(f"/issues/{SLUG}", headers={"User-Agent": "Googlebot/2.1"}).status_code == 200
    assert reader.get(f"/issues/{SLUG}", headers={"User-Agent": ""}).status_code == 200
    with session_scope() as session:
        accounts.create_user(session, "ann@example.org", "Ann Approver", PASSWORD, Role.APPROVER)
    team = TeamClient(app.test_client())
    team.sign_in("ann@example.org")
    assert team.get(f"/issues/{SLUG}", headers={"User-Agent": BROWSER}).status_code == 200
    with session_scope() as session:
        assert campaign_report(session, campaign_id).web_views == 3


def test_the_csv_is_for_the_team_only(fast: Settings) -> None:
    campaign_id, _ = send_to_readers(fast, 2)
    app = create_app(fast)
    assert app.test_client().get(f"/team/campaigns/{campaign_id}/report.csv").status_code in (302, 303, 401)
    with session_scope() as session:
        accounts.create_user(session, "ed@example.org", "Ed Editor", PASSWORD, Role.EDITOR)
    team = TeamClient(app.test_client())
    team.sign_in("ed@example.org")
    response = team.get(f"/team/campaigns/{campaign_id}/report.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Figure", "Detail", "Count"]
    assert ["Delivered", "", "2"] in rows and ["Web page visits", "", "0"] in rows
    assert ["Clicks", "https://www.example.org/localoffer/survey", "0"] in rows
    assert rows[-1][0] == "Note"
    page = team.get(f"/team/campaigns/{campaign_id}").get_data(as_text=True)
    assert f"/team/campaigns/{campaign_id}/report.csv" in page and "<figure" in page
    assert team.get("/team/campaigns/9999/report.csv").status_code == 404


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"x\")", "+1", "@sum", "-2"])
def test_csv_cells_are_not_formulas(cell: str) -> None:
    from newsletter.counts.report import CampaignReport, PollResults

    report = CampaignReport(1, "t", "t", "finished", 1, 0, 0, 0, 0, [], polls=[PollResults(cell, {cell: 1})])
    rows = list(csv.reader(io.StringIO(report.as_csv())))
    assert [f"Poll: {cell}", f"'{cell}", "1"] in rows


def test_counts_tables_match_the_models(db: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from newsletter.db import Base, engine_for
    from newsletter.models import load_all

    load_all()
    with engine_for(db.database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    ours = [change for change in diff if "link_counts" in repr(change) or "web_view_counts" in repr(change)]
    assert ours == []


def test_the_unsubscribes_of_a_campaign_outlive_forgetting_whom_it_reached(fast: Settings) -> None:
    """Retention clears whom a long-ended campaign's rows reached; the figure worked out from that is kept."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from newsletter.db import utcnow
    from newsletter.delivery.models import Campaign, Delivery
    from newsletter.maintenance import run_jobs

    campaign_id, messages = send_to_readers(fast, 4)
    client = create_app(fast).test_client()
    one_click = dict(data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    for item in messages[:2]:
        assert client.post(_unsubscribe_path(item), **one_click).status_code == 200
    with session_scope() as session:
        assert campaign_report(session, campaign_id).unsubscribed == 2
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(
            finished_at=utcnow() - timedelta(days=fast.delivery_retention_days + 1)))

    outcomes = {outcome.job: outcome for outcome in run_jobs(fast)}
    assert not any(outcome.error for outcome in outcomes.values())
    with session_scope() as session:
        assert set(session.scalars(select(Delivery.subscriber_id).where(Delivery.campaign_id == campaign_id))) == {None}
        report = campaign_report(session, campaign_id)
    assert report.unsubscribed == 2 and report.delivered == 4
