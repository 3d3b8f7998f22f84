"""The service files in deploy/: systemd units that verify, name commands this package really provides,
and an nginx site whose proxy headers are the ones the app trusts.

`systemd-analyze verify` checks each unit (with the install paths pointed at this venv, since it also
checks that each command exists). The web unit's own gunicorn command line is run, on the embedded
database, and must answer and print the first-run set-up code in its log; the worker and beat command
lines must load the Celery app from outside the source tree, as they do from /var/lib/newsletter.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from newsletter.config import Settings

from tests.conftest import ROOT
from tests.smtp import free_port

DEPLOY = ROOT / "deploy"
UNITS = ("newsletter-web.service", "newsletter-worker.service", "newsletter-beat.service")
INSTALLED = "/opt/newsletter/venv/bin/"
VENV_BIN = Path(sys.executable).parent
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "ProtectHome": "yes"}


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name)
    return parser


def _commands(name: str) -> list[list[str]]:
    service = _unit(name)["Service"]
    return [shlex.split(service[key]) for key in ("ExecStartPre", "ExecStart") if key in service]


@pytest.mark.parametrize("name", UNITS)
def test_units_are_hardened_and_read_the_environment_file(name: str) -> None:
    service = _unit(name)["Service"]
    assert service["User"] == "newsletter" and service["EnvironmentFile"] == "/etc/newsletter/newsletter.env"
    assert {key: service.get(key) for key in HARDENING} == HARDENING
    for command in _commands(name):
        assert command[0].startswith(INSTALLED), command


def test_units_name_commands_the_package_provides() -> None:
    from importlib.metadata import distribution

    newsletter = distribution("newsletter")
    scripts = {entry.name for entry in newsletter.entry_points if entry.group == "console_scripts"}
    requires = " ".join(newsletter.requires or [])
    provided = {"newsletter": "newsletter" in scripts,
                "celery": "celery" in {e.name for e in distribution("celery").entry_points},
                "gunicorn": re.search(r"gunicorn[^;]*; extra == .production.", requires) is not None}
    for name in UNITS:
        for command in _commands(name):
            program = command[0].removeprefix(INSTALLED)
            assert provided.get(program), f"{name} runs {program}, which `pip install 'newsletter[production]'` lacks"
    web = shlex.split(_unit("newsletter-web.service")["Service"]["ExecStart"])
    assert web[-1] == "newsletter.web:create_app()" and "127.0.0.1:8000" in web
    assert _commands("newsletter-web.service")[0][1:] == ["db", "upgrade"]
    # --quiet: no start-up banner on stdout, so the journal holds only log lines (JSON ones if so set).
    assert _commands("newsletter-worker.service")[0][1:5] == ["--app", "worker", "--quiet", "worker"]
    assert _commands("newsletter-beat.service")[0][1:5] == ["--app", "worker", "--quiet", "beat"]
    # Paths carry readers' tokens (/u/..., /p/...): gunicorn keeps no access log (the app logs the route),
    # and nginx's access log leaves the address out.
    assert not [part for part in web if part.startswith("--access-log")]
    site = (DEPLOY / "newsletter-nginx.conf").read_text()
    assert re.search(r"log_format newsletter_no_paths [^;]*;", site, re.DOTALL)
    assert "$request_uri" not in re.search(r"log_format newsletter_no_paths [^;]*;", site, re.DOTALL).group(0)
    assert "$request " not in site and site.count("access_log /var/log/nginx/access.log newsletter_no_paths;") == 2


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed here (Debian package systemd)")
    for name in UNITS:
        # verify also checks each command exists: point the install path at this venv.
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(INSTALLED, f"{VENV_BIN}/"))
    result = subprocess.run([tool, "verify", *(str(tmp_path / name) for name in UNITS)], capture_output=True,
                            text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                # The machine running the tests need not have the user, the services it orders after, or a
                # running systemd; anything about the units themselves is a failure.
                if line.strip() and not re.search(r"(postgresql|redis-server)\.service|network-online|"
                                                 r"User=|Failed to connect|System has not been booted|"
                                                 r"Documentation=", line)]
    assert result.returncode == 0 or not problems, result.stdout + result.stderr
    assert problems == [], problems


def _env(folder: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env.update({"NEWSLETTER_DATABASE_URL": f"sqlite:///{folder / 'newsletter.db'}",
                "NEWSLETTER_MEDIA_DIR": str(folder / "media"), "NEWSLETTER_OUTBOX_DIR": str(folder / "outbox"),
                "NEWSLETTER_BASE_URL": f"http://127.0.0.1:{port}",
                "NEWSLETTER_SECRET_KEY": "test-secret-key-0123456789", "NEWSLETTER_TRUSTED_PROXIES": "1"})
    return env


def _local(command: list[str], port: int) -> list[str]:
    return [part.replace(INSTALLED, f"{VENV_BIN}/").replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            for part in command]


def test_the_web_units_command_lines_run_and_print_the_set_up_code(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, port)
    upgrade, start = (_local(command, port) for command in _commands("newsletter-web.service"))
    done = subprocess.run(upgrade, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    server = subprocess.Popen([*start[:-1], "--workers", "2", start[-1]], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/team/set-up",
                                                 headers={"X-Forwarded-Proto": "https"})
                with urllib.request.urlopen(request, timeout=5) as answer:
                    page = answer.read().decode()
                    cookies = answer.headers.get_all("Set-Cookie") or []
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not answer"
                time.sleep(0.3)
        assert "Set up the newsletter" in page
        # The proxy said https: the CSRF cookie is marked Secure only because its header was trusted.
        assert any("newsletter_csrf" in cookie and "Secure" in cookie for cookie in cookies), cookies
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=60)
    codes = set(re.findall(r"set-up code ([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})", output))
    assert len(codes) == 1, output[-3000:]  # each gunicorn worker prints it, and it is the same code


@pytest.mark.parametrize("name", ["newsletter-worker.service", "newsletter-beat.service"])
def test_the_celery_command_lines_load_the_app_from_the_state_folder(name: str, settings: Settings,
                                                                     tmp_path: Path) -> None:
    command = _local(_commands(name)[0], 0)
    env = {**_env(tmp_path, 8000), "NEWSLETTER_REDIS_URL": "redis://127.0.0.1:6379/13"}
    result = subprocess.run([*command[:4], "--help"], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    check = subprocess.run([command[0], "--app", "worker", "inspect", "--help"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "Error" not in check.stderr, check.stderr


def test_nginx_sends_exactly_the_headers_the_app_trusts(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from newsletter.config import get_settings, reset_settings
    from newsletter.web import create_app
    from newsletter.web.observe import HEADER as REQUEST_ID

    monkeypatch.setenv("NEWSLETTER_TRUSTED_PROXIES", "1")
    reset_settings()
    app = create_app(get_settings())
    fix = app.wsgi_app
    assert isinstance(fix, ProxyFix)
    trusted = {f"x-forwarded-{part}" for part in ("for", "proto", "host", "port", "prefix") if getattr(fix, f"x_{part}")}
    site = (DEPLOY / "newsletter-nginx.conf").read_text()
    sent = {name.lower() for name in re.findall(r"^\s*proxy_set_header\s+(\S+)", site, re.MULTILINE)}
    assert {name for name in sent if name.startswith("x-forwarded-")} == trusted
    assert REQUEST_ID.lower() in sent and "host" in sent
    assert re.search(r"listen 443 ssl", site) and "ssl_certificate " in site and "return 301 https://" in site
    # The body limit lets the largest upload the app accepts through (the CSV import), and no more than a little.
    limit = int(re.search(r"client_max_body_size (\d+)m;", site).group(1))  # type: ignore[union-attr]
    assert get_settings().max_import_mb < limit <= get_settings().max_import_mb + 2


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed here (Debian package nginx-light); the header test above still runs")
    from cryptography import x509  # noqa: F401  (a self-signed pair stands in for the site's certificate)

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=news.example.gov.uk"], check=True, capture_output=True)
    site = (DEPLOY / "newsletter-nginx.conf").read_text()
    site = re.sub(r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};", site)
    site = re.sub(r"ssl_certificate \S+;", f"ssl_certificate {cert};", site)
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\nevents {{}}\n"
                    f"http {{ access_log off; {site} }}\n")
    result = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
