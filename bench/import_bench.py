"""Import benchmark: a 100,000-row CSV (with some bad rows) into the configured database.

    .venv/bin/python bench/import_bench.py                       # SQLite in a temporary folder
    NEWSLETTER_DATABASE_URL=postgresql://127.0.0.1:5432/test .venv/bin/python bench/import_bench.py

On PostgreSQL it works in a schema of its own and drops it afterwards. Prints rows a second, wall
time and peak resident memory for the first import and for a re-import of the same file (which
must change nothing). `--rows N` changes the size; running it at two sizes shows memory stays flat.
Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_csv(path: Path, rows: int, seed: int = 3) -> int:
    """Realistic-looking rows: mixed case, spaces, attributes; about 1% bad and 0.5% repeated. Returns bad rows."""
    rng = random.Random(seed)
    first = ["Amina", "Ben", "Chloe", "Dev", "Ellie", "Farah", "George", "Hana", "Isaac", "Jo", "Kacper", "Lena"]
    last = ["Ahmed", "Brown", "Clarke", "Dhillon", "Evans", "Fraser", "Green", "Hughes", "Iqbal", "Jones"]
    bad = 0
    recent: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Email Address,First name,Surname,Postcode,Child's school\r\n")
        for i in range(rows):
            f, s = rng.choice(first), rng.choice(last)
            email = f"{f}.{s}.{i}@Example{i % 50}.org"
            roll = rng.random()
            if roll < 0.01:
                email, bad = f"{f}.{s}.{i}-at-example.org", bad + 1
            elif roll < 0.015 and recent:
                email = f"  {rng.choice(recent).upper()} "  # the same person again, typed differently
            recent = (recent + [email])[-20:] if "@" in email and roll >= 0.01 else recent
            out.write(f"{email},{f},{s},AB{i % 9} {i % 7}CD,School {i % 40}\r\n")
    return bad


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="import-bench-"))
    url = os.environ.get("NEWSLETTER_DATABASE_URL") or f"sqlite:///{folder / 'bench.db'}"
    schema = None
    if url.startswith("postgres"):
        from sqlalchemy import create_engine, text

        base = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with create_engine(base).begin() as connection:
            connection.execute(text(f'create schema "{schema}"'))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    os.environ["NEWSLETTER_DATABASE_URL"] = url

    from newsletter.config import reset_settings

    reset_settings()
    from newsletter.db import session_scope
    from newsletter.migrate import upgrade
    from subscribers import store
    from subscribers.csv_import import import_csv

    try:
        upgrade(url)
        with session_scope() as session:
            store.create_list(session, "send-news", "SEND newsletter")
        with session_scope() as session:
            lists = [store.get_list(session, "send-news")]
        csv_path = folder / "families.csv"
        bad = write_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        backend = url.split(":", 1)[0].split("+")[0]
        print(f"{backend}: {args.rows:,} rows ({size_mb:.1f} MB, {bad:,} malformed addresses)")
        for label in ("import", "re-import"):
            started, cpu_started = time.perf_counter(), time.process_time()
            report = import_csv(csv_path, lists, session_scope, consent="Benchmark: consent recorded on paper forms")
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            print(f"  {label:9}: {wall:6.1f} s wall ({cpu:5.1f} s CPU in this process)  {report.rows / wall:8,.0f} rows/s  "
                  f"peak RSS {peak_rss_mb():6.1f} MB  added {report.added:,}, unchanged {report.unchanged:,}, "
                  f"duplicates {report.duplicates:,}, invalid {report.invalid:,}")
        # What the delivery engine does with the result: list everyone once, then re-check at send time.
        from subscribers import api

        with session_scope() as session:
            started = time.perf_counter()
            ids = [r.subscriber_id for r in api.sendable_recipients(session, [lists[0].id])]
            listed = time.perf_counter() - started
            started = time.perf_counter()
            allowed = sum(len(api.may_receive(session, ids[i:i + 200], [lists[0].id])) for i in range(0, len(ids), 200))
            checked = time.perf_counter() - started
        print(f"  sendable_recipients: {len(ids):,} in {listed:.1f} s; may_receive in batches of 200: "
              f"{allowed:,} in {checked:.1f} s")
    finally:
        if schema:
            from sqlalchemy import create_engine, text

            from newsletter.db import engine_for

            engine_for(url).dispose()
            with create_engine(url.split("?")[0]).begin() as connection:
                connection.execute(text(f'drop schema "{schema}" cascade'))


if __name__ == "__main__":
    main()
