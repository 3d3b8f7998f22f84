"""The wheel carries everything the service reads at run time, not only the Python modules.

A missing template or migration would pass every other test (they run from the source tree) and
fail only after `pip install .` on the council's server, so the built wheel is opened and checked.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_the_wheel_carries_templates_static_files_migrations_and_examples(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("newsletter-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "newsletter/_data/"
    expected_from_tree = [
        *(p.relative_to(ROOT) for p in (ROOT / "templates").rglob("*") if p.is_file()),
        *(p.relative_to(ROOT) for p in (ROOT / "examples").rglob("*") if p.is_file()),
    ]
    missing = [str(p) for p in expected_from_tree if data + str(p) not in names]
    assert missing == [], f"not in the wheel: {missing}"
    migrations = [p.relative_to(ROOT) for p in (ROOT / "newsletter" / "migrations").rglob("*.py")]
    assert all(str(p) in names for p in migrations)
    assert "worker.py" in names and "subscribers/csv_import.py" in names
    assert any(name.endswith("entry_points.txt") for name in names)
