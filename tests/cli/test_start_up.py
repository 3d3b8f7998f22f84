"""Start-up as an operator runs it: the built-in secret works on this machine and is refused anywhere else.

Real processes: `newsletter serve` answering on loopback (what `make run` does), and a Celery worker and
beat that stop with one line when BASE_URL is public and no NEWSLETTER_SECRET_KEY is set.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _environment(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    environment["PYTHONPATH"] = str(ROOT)
    environment.update(extra)
    return environment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_on_loopback_keeps_working_with_the_development_secret(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "newsletter.cli", "serve", "--port", str(port)], cwd=tmp_path,
                              env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/team/sign-in", timeout=2) as page:  # noqa: S310
                    assert page.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "newsletter serve did not answer"
                time.sleep(0.2)
        # Past the largest page limit (the CSV import's 50 MB), waitress refuses before reading the body.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"POST /u/any-token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 209715200\r\n"
                               b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
            assert connection.recv(200).startswith(b"HTTP/1.1 413")
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.parametrize("program", [["serve"], ["send", "any", "--list", "news"]])
def test_commands_refuse_the_development_secret_on_a_public_address(tmp_path: Path, program: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "newsletter.cli", *program], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env=_environment(NEWSLETTER_BASE_URL="https://news.example.org"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "NEWSLETTER_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_celery_refuses_the_development_secret_on_a_public_address(tmp_path: Path, program: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "worker", program, "--loglevel", "WARNING"], cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
        env=_environment(NEWSLETTER_BASE_URL="https://news.example.org",
                         NEWSLETTER_DATABASE_URL=f"sqlite:///{tmp_path / 'newsletter.db'}"),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    said = [line for line in (result.stdout + result.stderr).splitlines() if "NEWSLETTER_SECRET_KEY" in line]
    assert len(said) == 1 and "set NEWSLETTER_SECRET_KEY" in said[0]
