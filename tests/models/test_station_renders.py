"""``python -m models.station_renders``: the render figures of the phone damage card can be re-run."""

from __future__ import annotations

import pytest

from models.station_renders import HARD_ROWS, ROWS, main


def test_prints_one_row_per_kind_of_item(capsys: pytest.CaptureFixture[str]) -> None:
    """One render per row: a Markdown table with every plain and harder row, its wanted grades, a count
    out of n and, for clean items, the marks on known parts; then the demo phone's grades, display off
    and lit."""
    main(["--n", "1", "--n-hard", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("| rendered | wanted |")
    body = [line for line in lines[2:] if line.startswith("|")]
    assert [line.split(" | ")[0].lstrip("| ") for line in body] == [r.label for r in (*ROWS, *HARD_ROWS)]
    assert all(" / 1 |" in line for line in body)
    clean = [line for line, r in zip(body, (*ROWS, *HARD_ROWS), strict=True) if not r.defects]
    assert all(line.rstrip(" |").endswith("/ 1") for line in clean)
    off, lit = lines[-2:]  # the station grades the glass with the display off; lit for comparison
    assert off.startswith("demo phone (seed 7), screen up, display off") and "clean back (Pixel 6)" in off
    assert lit.startswith("demo phone (seed 7), screen up, display lit") and "clean back (Pixel 6)" in lit
