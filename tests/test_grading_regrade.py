"""The scale's rule applied to the marks a person kept (``inspector.grading.decide.regrade``): the
same marks give the grader's own grade and reasons, and dropping marks regrades by the same rule."""

from __future__ import annotations

import pytest

from inspector.grading import Grader
from inspector.grading.decide import Mark, regrade
from inspector.grading.scales import default_scale
from models.synth.scene import render_scene


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader.load(kinds=("phone",))


@pytest.mark.parametrize(("seed", "defects"), [(11, ["crack"]), (6, ["scratch"]), (21, [])])
def test_every_mark_kept_gives_the_graders_own_grade_and_reasons(
    grader: Grader, seed: int, defects: list[str]
) -> None:
    """Regrading a rendered phone from all of its marks (in whole micrometres, as the station keeps
    them) with the item-level verdict the grader had gives the grade and the reasons it gave."""
    scene = render_scene(
        "phone", seed=seed, defects=defects, side="screen", angle_deg=20.0 * seed, only_distractors=()
    )
    res = grader.grade(scene.image, "phone", "screen")
    assert res.damage is not None
    marks = [
        Mark(d.cls, round(d.length_mm * 1000) / 1000, round(d.area_mm2 * 1e6) / 1e6) for d in res.defects
    ]
    again = regrade(
        grader.scales["phone"],
        "screen",
        marks,
        damaged=res.damage.flagged,
        probability=res.damage.probability,
        found=res.item_found,
    )
    assert again.grade == res.grade
    assert again.reasons == [r for r in res.reasons if r not in res.caveats]


def test_rejected_cracks_no_longer_make_the_lowest_grade() -> None:
    """A phone with one confirmed crack is D; with the crack and the item-level verdict rejected and
    a short scratch kept it is B, and a kept crack counts even where the item-level verdict was
    rejected (a person saw it)."""
    scale = default_scale("phone")
    crack, scratch = Mark("crack", 12.0, 1.5), Mark("scratch", 8.0, 0.6)
    assert regrade(scale, "screen", [crack, scratch], damaged=True, probability=0.97).grade == "D"
    kept = regrade(scale, "screen", [scratch], damaged=False, probability=0.97)
    assert kept.grade == "B" and kept.reasons[0] == "B: 1 scratch, 8 mm long, on the screen"
    assert regrade(scale, "screen", [crack], damaged=False, probability=0.97).grade == "D"
    assert regrade(scale, "screen", [], damaged=True, probability=0.97).grade == "D"  # damaged, untraced
