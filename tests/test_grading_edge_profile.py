"""Chips and dents graded from side photos of a phone's frame (``edge_profile`` / ``edge_grade``)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.cli import main as cli_main
from inspector.grading.edge_grade import grade_edge
from inspector.grading.edge_profile import Rim, measure_edge
from inspector.grading.scales import SCALES_DIR, load_scale
from models.synth.side_view import EdgeDefect, render_side_view

SCALE = load_scale(SCALES_DIR / "phone.json")


def _box(contour: np.ndarray) -> tuple[int, int, int, int]:
    x, y, w, h = cv2.boundingRect(contour)
    return int(x), int(y), int(w), int(h)


def _overlaps(a: tuple[int, int, int, int], b: list[int], pad: int = 3) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax - pad < bx + bw and bx - pad < ax + aw and ay - pad < by + bh and by - pad < ay + ah


@pytest.mark.parametrize(
    ("defect", "angle"),
    [
        (EdgeDefect("chip", "upper", 40.0, 2.5, 1.0), 90),
        (EdgeDefect("dent", "lower", 30.0, 5.0, 0.8), 0),
        (EdgeDefect("chip", "lower", 110.0, 2.0, 1.2), 270),
        (EdgeDefect("dent", "upper", 50.0, 4.0, 0.7), 180),
    ],
)
def test_a_rendered_chip_or_dent_is_found_where_it_is(defect: EdgeDefect, angle: int) -> None:
    """One notch drawn on a rim is the one mark: on that rim, its box over the drawn one, its width and
    depth within a millimetre / half a millimetre, graded C (one chip/dent) with the scale's reason."""
    view = render_side_view(seed=21, angle_deg=angle, defects=[defect])
    truth = view.defects[0]
    res = grade_edge(view.image, SCALE)
    assert res.item_found and len(res.defects) == 1, res.reasons
    notch = res.profile.notches[0]
    assert notch.rim == Rim(defect.rim)
    assert _overlaps(_box(notch.contour), truth["box"])
    assert abs(notch.width_mm - defect.width_mm) < 1.0 + 0.3 * defect.width_mm
    assert abs(notch.depth_mm - defect.depth_mm) < 0.5
    assert res.grade == "C" and "1 chip/dent" in res.reasons[0] and "frame edge" in res.reasons[0]


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_clean_frames_are_graded_clean_at_every_stop(seed: int) -> None:
    """A frame with nothing broken is A at each of the four stops, although its faces carry buttons,
    antenna lines, the charging port and speaker holes and the backdrop has dust specks."""
    for angle in (0, 90, 180, 270):
        view = render_side_view(seed=seed, angle_deg=angle)
        res = grade_edge(view.image, SCALE)
        assert res.item_found and res.grade == "A" and not res.defects, (angle, res.reasons)


def test_a_long_and_a_short_edge_are_told_apart_for_millimetres() -> None:
    """Millimetres come from the edge's own length: the band of a long edge is read as a phone's height,
    a short edge's as its width, so a pixel measures about the same on both."""
    long_view = render_side_view(seed=5, angle_deg=90)
    short_view = render_side_view(seed=5, angle_deg=0)
    long_p, short_p = measure_edge(long_view.image), measure_edge(short_view.image)
    assert long_p.long_edge and not short_p.long_edge
    for p, view in ((long_p, long_view), (short_p, short_view)):
        assert abs(p.mm_per_px - 1 / view.px_per_mm) < 0.12 / view.px_per_mm


def test_an_empty_station_has_no_edge_to_grade() -> None:
    """Without a phone the side photo is the bare backdrop: no item found, no grade, and why."""
    view = render_side_view(seed=1, phone=False)
    res = grade_edge(view.image, SCALE)
    assert not res.item_found and res.grade is None
    assert "no phone edge" in res.reasons[0]


def test_cli_grades_a_side_photo_with_the_stable_json_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inspector grade --kind phone --side edge --json` gives the same keys as for top photos (file,
    item_found, grade, damage_probability, reasons, defects with class/mm/box, overlay); with no
    model behind it damage_probability is null."""
    view = render_side_view(seed=8, angle_deg=90, defects=[EdgeDefect("chip", "upper", 60.0, 3.0, 1.1)])
    img = tmp_path / "edge.jpg"
    cv2.imwrite(str(img), view.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    out = tmp_path / "out"
    rc = cli_main(["grade", str(img), "--kind", "phone", "--side", "edge", "--out", str(out), "--json"])
    assert rc == 0
    (entry,) = json.loads(capsys.readouterr().out)
    for key in ("file", "item_found", "grade", "damage_probability", "reasons", "defects", "overlay"):
        assert key in entry
    assert entry["grade"] == "C" and entry["item_found"] and entry["damage_probability"] is None
    (defect,) = entry["defects"]
    assert defect["class"] == "chip" and defect["area_mm2"] > 1.0
    x, y, w, h = defect["box"]
    assert _overlaps((x, y, w, h), view.defects[0]["box"])
    overlay = cv2.imread(entry["overlay"])
    assert overlay is not None and overlay.shape == view.image.shape


def test_cli_refuses_edge_photos_of_jewelry(tmp_path: Path) -> None:
    """Side photos are of phones' frames: --kind jewelry --side edge is a clear error."""
    img = tmp_path / "edge.png"
    cv2.imwrite(str(img), render_side_view(seed=1).image)
    assert cli_main(["grade", str(img), "--kind", "jewelry", "--side", "edge", "--out", str(tmp_path)]) != 0
