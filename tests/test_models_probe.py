"""The model probe (models/probe.py): the quick held-out gate for a part model, run on the shipped one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from models.probe import probe

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "jewelry_defects.onnx"


def test_probe_counts_pieces_per_group_and_finds_what_the_model_sees() -> None:
    """Proves: one row for the clean pieces and one per probed class, each counting its pieces (clean
    pieces have nothing to find); the shipped jewelry model's missing stones are found."""
    rows = probe(SHIPPED, "jewelry", ["dent", "missing_stone"], n=3)
    assert [r.defect for r in rows] == ["clean", "dent", "missing_stone"]
    assert all(r.pieces == 3 for r in rows) and rows[0].found is None
    assert rows[1].found is not None and rows[1].mean_p_on_defect is not None
    assert rows[2].found is not None and rows[2].found >= 2
    for r in rows:  # which class marked a piece: none alone marks more pieces than all together
        assert set(r.marked_by) == {"dent", "missing_stone"}
        assert max(r.marked_by.values()) <= r.marked
    assert rows[2].marked_by["missing_stone"] >= 2  # the missing stones it finds also mark their pieces


def test_a_class_gets_the_same_pieces_whichever_classes_it_is_probed_with() -> None:
    """Proves: missing stones probed alone and after dents are the same pieces, so two probes of one
    model agree on a class (seeded by position they did not: 15 against 16 of 20 loose stones)."""
    alone = probe(SHIPPED, "jewelry", ["missing_stone"], n=2)[1]
    second = probe(SHIPPED, "jewelry", ["dent", "missing_stone"], n=2)[2]
    assert alone.defect == second.defect == "missing_stone"
    assert (alone.found, alone.mean_p_on_defect) == (second.found, second.mean_p_on_defect)
    assert alone.marked_by["missing_stone"] == second.marked_by["missing_stone"]


def test_probe_cli_names_an_unknown_class() -> None:
    """Proves: a class the kind does not have is a usage error naming the kind's classes."""
    cmd = ["-m", "models.probe", "--model", str(SHIPPED), "--kind", "jewelry", "--classes", "crack"]
    r = subprocess.run(
        [sys.executable, *cmd],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "not a jewelry class: ['crack']" in r.stderr and "tarnish" in r.stderr
