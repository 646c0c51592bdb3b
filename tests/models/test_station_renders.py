"""``python -m models.station_renders``: the render figures of the phone damage card can be re-run."""

from __future__ import annotations

import pytest

from models.station_renders import ROWS, main


def test_prints_one_row_per_kind_of_item(capsys: pytest.CaptureFixture[str]) -> None:
    """One render per row: a Markdown table with every row, its wanted grades and a count out of n."""
    main(["--n", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("| rendered | wanted |")
    body = lines[2:]
    assert [line.split(" | ")[0].lstrip("| ") for line in body] == [r.label for r in ROWS]
    assert all(" / 1 |" in line for line in body)
