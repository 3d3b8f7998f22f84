"""Migration 0016 makes the heartbeats table as its model says, on SQLite and PostgreSQL, and goes back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from newsletter.config import Settings
from newsletter.db import Base, engine_for
from newsletter.models import load_all

from tests.conftest import ROOT


def test_the_heartbeats_table_matches_its_model(db: Settings) -> None:
    load_all()
    with engine_for(db.database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert [entry for entry in diff if "heartbeats" in repr(entry)] == []


def test_several_processes_histograms_are_summed_with_prometheus_multiproc_dir(settings: Settings,
                                                                              tmp_path: Path) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    script = (
        "from newsletter.migrate import upgrade\n"
        "from newsletter.config import get_settings\n"
        "from newsletter.web import create_app\n"
        "upgrade(get_settings().database_url)\n"
        "client = create_app().test_client()\n"
        "client.get('/healthz')\n"
        "print(client.get('/metrics', headers={'Authorization': 'Bearer multiproc-token-012345'}).get_data(as_text=True))\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "NEWSLETTER_METRICS_TOKEN": "multiproc-token-012345",
           "PYTHONPATH": str(ROOT)}
    outputs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True,
                              cwd=tmp_path).stdout for _ in range(2)]
    line = 'newsletter_http_request_duration_seconds_count{endpoint="health.healthz",method="GET",status="200"}'
    # The second process reports both processes' requests.
    assert f"{line} 1.0" in outputs[0] and f"{line} 2.0" in outputs[1]
