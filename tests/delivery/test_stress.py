"""The randomized stress test of issue 10: real workers, a slow and failing SMTP server, a low rate
limit, a short lease, and pause/resume/cancel/retry, unsubscribes, erasures and imports arriving
while two campaigns send. Every invariant is checked at the end (see stress_harness.py).

It runs in the normal suite on SQLite and PostgreSQL, about a minute per backend. The seed is
fixed when HYPOTHESIS_PROFILE=ci (CI) and chosen at random otherwise; NEWSLETTER_STRESS_SEED sets
it. Every run prints its seed and the full report. `bench/stress.py` runs longer and bigger.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from newsletter.config import Settings
from tests.delivery.stress_harness import StressConfig, run_stress
from tests.delivery.test_workers import redis_server  # noqa: F401  (a fixture: a private redis-server)

CI_SEED = 20261128


def stress_seed() -> int:
    if os.environ.get("NEWSLETTER_STRESS_SEED"):
        return int(os.environ["NEWSLETTER_STRESS_SEED"])
    if os.environ.get("HYPOTHESIS_PROFILE") == "ci":
        return CI_SEED
    return random.SystemRandom().randrange(1, 10**9)


@pytest.mark.stress
@pytest.mark.xfail(strict=False, reason=(
    "issue 10 fixes not landed yet; before them these invariants fail: 1 and 2 (a live worker's lease runs out "
    "during a slow reply and the row is sent twice), 2 (erasure deletes the reader's delivery rows), 3 "
    "(unsubscribe checked once per batch), 4 and 7 (cancel keeps sending and leaves rows queued), 5 (a double "
    "one-click or erasure writes two consent lines), 6 (permits asked ten at a time, granted up to the burst)"))
def test_every_invariant_holds_under_random_operations(db: Settings, tmp_path: Path, redis_server) -> None:  # noqa: F811
    seed = stress_seed()
    print(f"stress seed {seed} (repeat with NEWSLETTER_STRESS_SEED={seed})")
    result = run_stress(db, tmp_path, redis_server, StressConfig(seed=seed))
    print(result.report())
    assert not result.violations, result.report()
