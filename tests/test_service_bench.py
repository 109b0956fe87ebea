"""The load test still runs and checks what it claims, scaled down (behaviour only)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_scaled_down_load_test_loses_and_duplicates_nothing():
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "service_load.py"),
            *("--reports", "24", "--clients", "6", "--secondary-burst", "3"),
            *("--error-rate", "0.1", "--timeout", "240"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = dict(line.split(None, 1) for line in proc.stdout.splitlines() if "  " in line)
    assert "reports accepted        24 of 24" in proc.stdout
    assert lines["lost"].strip() == "0"
    assert lines["duplicated"].strip() == "0"
    assert "token in service log    0" in proc.stdout
    assert "OpenAPI violations      0" in proc.stdout
    assert proc.stdout.rstrip().endswith("none lost, none duplicated: yes")
