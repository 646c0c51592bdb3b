"""The ``inspector warranty`` command line: staff record a sale, act on claims, export reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from wty_helpers import IMEI, make_cert

from inspector.cli import main
from inspector.config import get_settings
from inspector.db import make_engine, session_scope
from warranty.service import Actor, open_claim


@pytest.fixture
def datadir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INSPECTOR_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_sale_claim_and_reports(datadir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Record a sale, see coverage, walk a claim to closed, list it, and export CSV; errors are one line."""
    cert = make_cert()
    assert main(["warranty", "plans"]) == 0
    assert "phone-180" in capsys.readouterr().out
    assert (
        main(
            [
                "warranty",
                "sale",
                cert.human_id,
                "--order",
                "ORD-7",
                "--price",
                "1299.50",
                "--contact",
                "b@example.com",
            ]
        )
        == 0
    )
    assert main(["warranty", "sale", cert.human_id, "--order", "ORD-7", "--price", "1"]) == 1
    assert "already recorded" in capsys.readouterr().err
    assert main(["warranty", "coverage", cert.human_id]) == 0
    assert "(sale)" in capsys.readouterr().out
    engine = make_engine(get_settings().resolved_database_url)
    with session_scope(engine) as s:
        ref = open_claim(
            s, Actor.buyer(), cert_human_id=cert.human_id, order_ref="ORD-7", problem="functional_fault"
        )[0].ref
    engine.dispose()
    assert main(["warranty", "act", ref, "approve", "--outcome", "refund", "--note", "x"]) == 1
    assert "cannot approve" in capsys.readouterr().err
    assert main(["warranty", "act", ref, "accept"]) == 0
    assert main(["warranty", "act", ref, "receive", "--identity", IMEI]) == 0
    assert main(["warranty", "act", ref, "deny", "--reason", "water", "--note", "corrosion inside"]) == 0
    assert main(["warranty", "act", ref, "resolve", "--note", "returned to buyer"]) == 0
    assert main(["warranty", "act", ref, "close"]) == 0
    capsys.readouterr()
    assert main(["warranty", "claims", "--state", "all", "--search", cert.human_id]) == 0
    assert ref in capsys.readouterr().out
    assert main(["warranty", "show", ref]) == 0
    assert "cli:" in capsys.readouterr().out
    out = datadir / "claims.csv"
    assert main(["warranty", "report", "--claims-csv", str(out)]) == 0
    assert ref in out.read_text() and "b@example.com" not in out.read_text()
    assert main(["warranty", "report"]) == 0
    assert "claim rate by grade" in capsys.readouterr().out
    assert main(["warranty", "coverage", "NOPE"]) == 1


def test_cli_plan_check_reports_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An admin editing plan files gets the file and field named when one is wrong."""
    (tmp_path / "p.json").write_text('{"plan_id": "x"}')
    assert main(["warranty", "plans", "--dir", str(tmp_path)]) == 1
    assert "p.json" in capsys.readouterr().err
