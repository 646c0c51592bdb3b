"""The fault campaign (bench/faults.py) keeps working: a handful of faults against a real station."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_campaign_kills_and_pulls_cables_and_reports_every_inspection_consistent(tmp_path: Path) -> None:
    """Six kill -9 and cable-pull faults over inspections and claims run end to end, are all counted,
    and leave every inspection and claim consistent (the command exits 0 and says so in its JSON).
    The campaign's operator gets inspections through the review to a certificate and its staff
    close claims against them: a campaign stuck at a step it cannot answer tests nothing."""
    out = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "faults.py"),
            "--faults",
            "6",
            "--kinds",
            "kill,cable",
            "--seed",
            "1",  # its faults fall on inspections and, once items are certified, on claims
            "--claim-share",
            "0.5",
            "--workdir",
            str(tmp_path / "work"),
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert sum(report["faults_injected"].values()) == 6
    assert set(report["faults_injected"]) <= {"kill", "cable"}
    assert report["inspections_total"] >= 1
    assert report["faults_on"].get("claim", 0) >= 1
    assert report["inspections_by_status"].get("completed", 0) >= 1
    assert "waiting_operator" not in report["inspections_by_status"]
    assert report["claims_total"] >= 1 and report["claims_by_state"] == {"closed": report["claims_total"]}
    assert report["inspections_consistent"] == report["inspections_total"]
    assert report["claims_consistent"] == report["claims_total"]
    assert report["inconsistencies"] == []
    assert "inspections" in done.stdout and "no inconsistencies" in done.stdout


def test_campaign_rejects_an_unknown_fault_kind_without_echoing_a_traceback() -> None:
    """`--kinds` with a kind that does not exist is a usage error naming the valid kinds."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "faults.py"), "--kinds", "meteor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "kill, cable, db_drop, db_hang, disk_full" in done.stderr
    assert "Traceback" not in done.stderr
