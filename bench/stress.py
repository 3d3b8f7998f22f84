r"""The stress run of tests/delivery/test_stress.py, bigger and longer, for several seeds. Run by hand:

    .venv/bin/python bench/stress.py                               # PostgreSQL, 3 seeds, defaults below
    .venv/bin/python bench/stress.py --backend sqlite --seeds 7 8 --readers 2000 --workers 4 --minutes 3
    .venv/bin/python bench/stress.py --rate 0.5 --burst 1 --lease 3 --readers 70 --second-readers 25 \
        --overlap 5 --op-gap 1.5 4 --minutes 2 --p-slow 0.1   # a relay that allows 30 a minute (Microsoft 365)

It needs `redis-server` and, for PostgreSQL, the server at 127.0.0.1:5432 (database `test`); it
makes its own schema (or SQLite file), Redis, SMTP server and workers, and removes them afterwards.
For each seed it prints the figures and the invariant report (tests/delivery/stress_harness.py
says what is checked); the exit status is 1 if any invariant failed for any seed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _environment(folder: Path, database_url: str) -> None:
    """The same settings the test suite's `settings` fixture gives, in this process's environment."""
    from tests.conftest import TEST_THEME

    os.chdir(folder)
    for name in list(os.environ):
        if name.startswith("NEWSLETTER_"):
            del os.environ[name]
    os.environ.update({
        "NEWSLETTER_DATABASE_URL": database_url,
        "NEWSLETTER_MEDIA_DIR": str(folder / "media"),
        "NEWSLETTER_OUTBOX_DIR": str(folder / "outbox"),
        "NEWSLETTER_BASE_URL": "https://news.example.org",
        "NEWSLETTER_SECRET_KEY": "bench-secret-key-0123456789",
        "NEWSLETTER_FROM_ADDRESS": "Local Offer Team <news@example.org>",
        # The suite's theme: the example theme's placeholder address and numbers stop a send.
        "NEWSLETTER_THEME_FILE": str(TEST_THEME),
    })


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--seeds", type=int, nargs="*", default=None, help="default: three random seeds")
    parser.add_argument("--readers", type=int, default=1200, help="on the main list")
    parser.add_argument("--second-readers", type=int, default=400)
    parser.add_argument("--overlap", type=int, default=150)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--rate", type=float, default=12.0)
    parser.add_argument("--burst", type=int, default=3)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--slow", type=float, default=None, help="seconds of a slow reply (default: lease + 1)")
    parser.add_argument("--p-slow", type=float, default=0.02, help="share of 250 replies that come after the lease")
    parser.add_argument("--minutes", type=float, default=2.0, help="how long the random operations go on")
    parser.add_argument("--op-gap", type=float, nargs=2, default=[0.05, 0.5], metavar=("MIN", "MAX"),
                        help="seconds between random operations (widen it at low rates)")
    parser.add_argument("--cancel-main", type=float, default=0.3, help="chance the main campaign is cancelled too")
    args = parser.parse_args()

    import random

    from sqlalchemy import create_engine, text

    from newsletter.config import get_settings, reset_settings
    from newsletter.migrate import upgrade
    from tests.conftest import PG_SERVER, _clean
    from tests.delivery.stress_harness import StressConfig, run_stress
    from tests.delivery.test_workers import Redis

    seeds = args.seeds or [random.SystemRandom().randrange(1, 10**9) for _ in range(3)]
    failed = False
    with tempfile.TemporaryDirectory(prefix="stress-bench-") as temp:
        base = Path(temp)
        schema = None
        if args.backend == "postgresql":
            schema = f"stress_{uuid.uuid4().hex[:10]}"
            with create_engine(PG_SERVER).begin() as connection:
                connection.execute(text(f'create schema "{schema}"'))
            url = f"{PG_SERVER}?options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{base / 'stress.db'}"
        try:
            upgrade(url)
            for seed in seeds:
                folder = base / f"seed-{seed}"
                folder.mkdir()
                _environment(folder, url)
                reset_settings()
                _clean(url)
                settings = get_settings()
                config = StressConfig(
                    seed=seed, readers=args.readers, second_readers=args.second_readers, overlap=args.overlap,
                    workers=args.workers, parallelism=args.parallelism, rate=args.rate, burst=args.burst,
                    lease_seconds=args.lease, slow_seconds=args.slow if args.slow is not None else args.lease + 1,
                    chaos_seconds=args.minutes * 60, settle_seconds=max(120.0, args.minutes * 60),
                    p_slow=args.p_slow, p_cancel_main=args.cancel_main, op_gap=(args.op_gap[0], args.op_gap[1]),
                )
                redis_server = Redis(folder)
                redis_server.start()
                started = time.monotonic()
                try:
                    result = run_stress(settings, folder, redis_server, config)
                finally:
                    redis_server.stop()
                print(result.report(limit=20))
                print(f"  seed {seed} took {time.monotonic() - started:.0f}s; invariants held: {result.held()}\n",
                      flush=True)
                failed = failed or bool(result.violations)
        finally:
            os.chdir(ROOT)
            if schema is not None:
                with create_engine(PG_SERVER).begin() as connection:
                    connection.execute(text(f'drop schema "{schema}" cascade'))
    print(f"seeds {seeds}: {'some invariant failed' if failed else 'every invariant held'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
