"""Settings, read once from `NEWSLETTER_*` environment variables (and an optional `.env`).

Everything that differs between a laptop and production lives here and nowhere else, so a
misconfigured deployment fails at start-up with one line naming the setting, instead of
half-way through a send.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsletter.errors import NewsletterError
from newsletter.headersafe import check_one_line

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")

# A development key: good enough for the embedded default on one machine, refused in production.
DEVELOPMENT_SECRET = "development-only-secret-change-me"


@dataclass(frozen=True)
class SmtpServer:
    name: str
    url: str
    rate: float
    per_day: int


class SettingsError(NewsletterError):
    """A setting is missing or malformed; the message names it and says what is expected."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSLETTER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'newsletter.db'}")
    redis_url: str | None = None
    smtp_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEVELOPMENT_SECRET
    from_address: str = "Local Offer Team <newsletter@localhost>"
    outbox_dir: Path = Field(default_factory=lambda: Path.cwd() / "outbox")
    media_dir: Path = Field(default_factory=lambda: Path.cwd() / "media")
    theme_file: Path | None = None
    production: bool = False
    # Web views are public, but a council may not want an archive of SEND newsletters in search engines.
    web_noindex: bool = False
    # Count clicks on an issue's links through a redirect on our own address (/r/...) that carries no
    # reader identity. Off: links in emails frozen from then on go straight to their destination.
    count_clicks: bool = True
    readability_min_score: Annotated[float, Field(ge=0, le=100)] = 60.0
    # How many reverse proxies stand in front of the web app (0: none). With one, its X-Forwarded-For
    # and X-Forwarded-Proto are trusted, so rate limits see each visitor and cookies know they are https.
    trusted_proxies: Annotated[int, Field(ge=0, le=5)] = 0
    # Four eyes by default: the person who wrote an issue cannot also approve it. A team of one turns it off.
    allow_self_approval: bool = False
    # How long a co-production review link works before the team has to share a new one.
    review_link_days: Annotated[int, Field(ge=1, le=90)] = 14
    # What families type with a feedback or poll answer may hold personal data (GDPR: keep it no longer
    # than needed), so it is deleted this long after it arrived (newsletter/listening/store.py).
    comment_retention_days: Annotated[int, Field(ge=1, le=3650)] = 365
    # Retention (newsletter/maintenance.py, run daily): how long each kind of personal detail is kept.
    # A finished campaign's delivery rows lose their link to the reader this many days after it ended
    # (long enough to answer "did my March newsletter reach me?" for a year and a bit; the counts stay).
    delivery_retention_days: Annotated[int, Field(ge=30, le=3650)] = 400
    # Requests to join that nobody confirmed are deleted after this many days.
    unconfirmed_days: Annotated[int, Field(ge=1, le=365)] = 14
    # Reviewers' comments are deleted this long after they were left, once resolved or once the issue
    # went out (an unresolved comment on a draft is work in progress and stays).
    review_comment_days: Annotated[int, Field(ge=7, le=3650)] = 180
    # The team's clock: times are typed and shown in it (with the zone, "9:00 BST"), stored in UTC.
    timezone: str = "Europe/London"
    # A test send goes to the team's own addresses: a handful, never a mailing (the issue may be unapproved).
    test_send_max_addresses: Annotated[int, Field(ge=1, le=50)] = 10
    # The largest CSV file the composer's import accepts; 100,000 subscribers are about 10 MB.
    max_import_mb: Annotated[int, Field(ge=1, le=1024)] = 50
    # A team member is signed out after this long without a request, and this long after signing in
    # however busy (a working day), so a forgotten or copied session does not last.
    session_idle_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 120
    session_hours: Annotated[int, Field(ge=1, le=7 * 24)] = 12
    # Sending: the pace the SMTP provider allows, shared by every worker (see delivery/ratelimit.py).
    send_rate: Annotated[float, Field(gt=0, le=100_000)] = 50.0
    send_rate_per_day: Annotated[int, Field(ge=0)] = 0
    # How many may go at once after a quiet spell. Unset: one second's worth of the rate (at least 1,
    # at most 50), because a fixed 50 would empty a 30-a-minute relay's allowance in one go.
    send_burst: Annotated[int | None, Field(ge=1, le=10_000)] = None
    send_batch_size: Annotated[int, Field(ge=1, le=5_000)] = 200
    # How long a worker owns the rows it claimed; a dead worker's rows are taken back after this.
    send_lease_seconds: Annotated[float, Field(gt=0)] = 120.0
    send_max_attempts: Annotated[int, Field(ge=1, le=50)] = 6
    send_retry_base_seconds: Annotated[float, Field(gt=0)] = 60.0
    # How many workers may work on one campaign at once (each claims its own batches).
    send_parallelism: Annotated[int, Field(ge=1, le=64)] = 4
    # How often the scheduler starts due campaigns and re-queues ones nobody is working on.
    tick_seconds: Annotated[float, Field(gt=0, le=300)] = 5.0
    # Bearer token an SMTP relay uses to post bounces to /bounces/inbound; unset turns the endpoint off.
    bounce_token: str | None = None
    dkim_key_file: Path | None = None
    dkim_selector: str = "newsletter"
    # Operations (newsletter/logs.py, newsletter/web/health.py): "json" gives one JSON object a line for
    # log collectors; /metrics answers only with this bearer token, and not at all (404) without one.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_token: str | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme.split("+")[0]
        if scheme not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError("must start with sqlite:/// or postgresql://")
        if scheme == "postgres" or value.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must start with redis:// or rediss://")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        # It is the only thing between the internet and the service's figures: a guessable one is refused.
        if len(value) < 16 or any(ch.isspace() for ch in value):
            raise ValueError("must be at least 16 characters without spaces, such as the output of "
                             "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be a time zone name such as Europe/London") from None
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        for url in value.split(","):
            parts = urlsplit(url.strip())
            if parts.scheme not in {"smtp", "smtps", "smtp+starttls"} or not parts.hostname:
                raise ValueError("must look like smtp://user:password@host:port (or smtps://, smtp+starttls://); "
                                 "separate several servers with commas")
            for key, raw in parse_qsl(parts.query):
                if key not in {"rate", "per_day"} or not raw.replace(".", "", 1).isdigit():
                    raise ValueError(f"unknown or invalid option {key}={raw} (use rate=N and per_day=N)")
        return value

    @property
    def smtp_servers(self) -> list[SmtpServer]:
        """Each configured server with its own pace; the general send rate applies where none is given."""
        if not self.smtp_url:
            return []
        servers = []
        for url in self.smtp_url.split(","):
            parts = urlsplit(url.strip())
            options = dict(parse_qsl(parts.query))
            servers.append(SmtpServer(
                name=f"{parts.hostname}:{parts.port or 25}",
                url=parts._replace(query="").geturl(),
                rate=float(options.get("rate", self.send_rate)),
                per_day=int(float(options.get("per_day", self.send_rate_per_day))),
            ))
        return servers

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        # Every personal link, and so the List-Unsubscribe header, starts with it.
        check_one_line(value)
        if any(ch.isspace() for ch in value):
            raise ValueError("must not contain spaces")
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http:// or https:// address")
        return value.rstrip("/")

    @field_validator("from_address")
    @classmethod
    def _from_address(cls, value: str) -> str:
        from email.utils import parseaddr

        # It is the From header of every message: a line break here would add headers to all of them.
        check_one_line(value)
        _, address = parseaddr(value)
        if "@" not in address:
            raise ValueError('must be an address such as "Local Offer Team <news@example.org>"')
        if not address.rsplit("@", 1)[1].isascii():
            # The domain names every Message-ID and List-Id, which must be ASCII.
            raise ValueError("the domain must be written in ASCII (for an international domain, its xn-- form)")
        return value

    @field_validator("dkim_selector")
    @classmethod
    def _dkim_selector(cls, value: str) -> str:
        # Written into every DKIM-Signature header and looked up in DNS: one DNS name, nothing else.
        if not _DNS_NAME.fullmatch(value):
            raise ValueError("must be a DNS name such as newsletter or news-2026")
        return value

    def burst_for(self, rate: float) -> int:
        """The burst for a server sending at `rate` a second: the setting, or one second's worth."""
        if self.send_burst is not None:
            return self.send_burst
        return max(1, min(50, int(rate)))

    def refuse_development_secret_off_loopback(self) -> None:
        """Stop start-up when the built-in secret would sign sessions and links for a public address.

        Anyone can read DEVELOPMENT_SECRET in the source and forge a session cookie or an unsubscribe link
        with it, so it may only sign for this machine (`make run`). Every entry point that serves or
        sends calls this: `newsletter serve`, `create_app()` (gunicorn), `newsletter send`, the Celery
        worker and beat.
        """
        if self.secret_key != DEVELOPMENT_SECRET or _is_loopback(urlsplit(self.base_url).hostname or ""):
            return
        raise SettingsError(
            f"setting NEWSLETTER_SECRET_KEY is missing: NEWSLETTER_BASE_URL {self.base_url} is not this machine, "
            "so set NEWSLETTER_SECRET_KEY to a long random value, for example the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )

    @functools.cached_property
    def sender_domain(self) -> str:
        """The domain Message-IDs, List-Ids and VERP addresses are made on (never the worker's hostname)."""
        from email.utils import parseaddr

        return parseaddr(self.from_address)[1].rsplit("@", 1)[1].lower()


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost` (RFC 6761 keeps `*.localhost` on this machine too)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    name = "NEWSLETTER_" + "_".join(str(part) for part in first["loc"]).upper()
    message = first["msg"].removeprefix("Value error, ")
    return f"setting {name} is invalid: {message}"


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings, turning pydantic's report into one line a person can act on."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    if settings.production and settings.secret_key == DEVELOPMENT_SECRET:
        raise SettingsError("setting NEWSLETTER_SECRET_KEY is missing: production needs its own secret key")
    if len(settings.secret_key) < 16:
        raise SettingsError("setting NEWSLETTER_SECRET_KEY is too short: use at least 16 characters")
    return settings


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing the environment."""
    return load_settings()


def reset_settings() -> None:
    get_settings.cache_clear()


__all__ = ["Settings", "SettingsError", "get_settings", "load_settings", "reset_settings"]
