"""The `newsletter` command as a user runs it: a real process, real files, clear errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from newsletter.config import Settings

from tests.conftest import EXAMPLE, ROOT


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "newsletter.cli", *args],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("NEWSLETTER_")}


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("check", "db", "issues", "render", "serve"):
        assert command in result.stdout
    issues = run("issues", "--help", cwd=tmp_path).stdout
    for command in ("import", "export", "list", "publish", "preview-link"):
        assert command in issues


def test_render_writes_three_files_and_a_clean_report(tmp_path: Path, env: dict[str, str]) -> None:
    result = run("render", str(EXAMPLE), "--out", "out", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    for name in ("email.html", "email.txt", "web.html", "message.eml"):
        assert (tmp_path / "out" / name).stat().st_size > 1000
    assert "0 errors" in result.stdout or "No problems found" in result.stdout


def test_check_fails_on_an_inaccessible_issue(tmp_path: Path, env: dict[str, str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"title": "T", "subject": "S", "blocks": [
        {"type": "text", "markdown": "For the dates, [click here](https://www.example.org/dates)."},
    ]}))
    result = run("check", str(bad), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "click here" in result.stdout.lower()
    assert "Traceback" not in result.stderr


def test_invalid_file_names_block_and_field_without_traceback(tmp_path: Path, env: dict[str, str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"title": "T", "subject": "S", "blocks": [
        {"type": "heading", "text": "Hi"}, {"type": "image", "src": "https://e.org/a.png"}]}))
    for command in (("render", str(bad), "--out", "out"), ("check", str(bad)), ("issues", "import", str(bad))):
        result = run(*command, cwd=tmp_path, env=env)
        assert result.returncode == 1
        assert "block 2 (image), field alt: is required" in result.stderr
        assert "Traceback" not in result.stderr


def test_malformed_setting_stops_with_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    result = run("issues", "list", cwd=tmp_path, env={**env, "NEWSLETTER_BASE_URL": "not-a-url"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: setting NEWSLETTER_BASE_URL is invalid: must be an absolute http:// or https:// address"
    ]
    result = run("issues", "list", cwd=tmp_path, env={**env, "NEWSLETTER_PRODUCTION": "1",
                                                     "NEWSLETTER_SECRET_KEY": ""})
    assert result.returncode == 2 and "NEWSLETTER_SECRET_KEY" in result.stderr


def test_import_list_export_publish(tmp_path: Path, env: dict[str, str]) -> None:
    assert run("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    result = run("issues", "import", str(EXAMPLE), cwd=tmp_path, env=env)
    assert result.returncode == 0 and "co-production-week-2026" in result.stdout
    assert "draft" in run("issues", "list", cwd=tmp_path, env=env).stdout
    exported = run("issues", "export", "co-production-week-2026", cwd=tmp_path, env=env).stdout
    assert yaml.safe_load(exported)["slug"] == "co-production-week-2026"
    missing = run("issues", "export", "no-such-issue", cwd=tmp_path, env=env)
    assert missing.returncode == 1 and "no issue with the slug 'no-such-issue'" in missing.stderr
    link = run("issues", "preview-link", "co-production-week-2026", cwd=tmp_path, env=env).stdout.strip()
    assert link.startswith("https://news.example.org/preview/")
    rendered = run("render", "co-production-week-2026", "--out", "bydb", cwd=tmp_path, env=env)
    assert rendered.returncode == 0, rendered.stderr
    published = run("issues", "publish", "--out", "site", cwd=tmp_path, env=env)
    assert published.returncode == 0
    assert (tmp_path / "site" / "issues" / "index.html").is_file()
    assert (tmp_path / "site" / "static" / "web.css").is_file()


def test_repository_layout_matches_the_design() -> None:
    for path in ("newsletter", "templates/email", "templates/web", "subscribers", "worker.py", "pyproject.toml"):
        assert (ROOT / path).exists(), path
