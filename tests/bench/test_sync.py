"""The sync drain benchmark (bench/sync.py) keeps working: a few certificates end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scratch_db import postgres_reachable

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.mark.slow
def test_bench_drains_a_small_backlog_and_counts_nothing_lost_or_duplicated(tmp_path: Path) -> None:
    """Five certificates of two photos each, issued while the platform is down, all reach it once:
    the command exits 0 and its JSON counts 5 certificates, 10 photos and 5 log leaves; two more,
    issued with the platform up, are timed until their verify URL answers."""
    if not postgres_reachable(POSTGRES_URL):
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
    out = tmp_path / "report.json"
    size = ("--certificates", "5", "--photos", "2", "--photo-kb", "20", "--online", "2")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sync.py"), *size, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BENCH_POSTGRES_URL": POSTGRES_URL},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["ok"] and report["on_platform"] == {"certificates": 5, "photos": 10, "log_leaves": 5}
    assert not any(report["lost"].values()) and not any(report["duplicated"].values())
    assert "drained in" in done.stdout and done.stdout.rstrip().endswith("OK")
    assert len(report["online_s"]) == 2  # then two issued with the platform up, timed to verifiable
