"""Every candidate scorer the jewelry grader knows, by the name of its rule in the calibration file
(``inspector.grading.candidates``). The grader, the calibration, the trainer and the promotion step
all go through this table, so a new scorer is added here once."""

from __future__ import annotations

from inspector.grading.candidates import ScorerKind
from inspector.grading.loose_stones import LOOSE_STONES
from inspector.grading.stone_seats import STONE_SEATS
from inspector.grading.surface_lines import SCRATCH_LINES

SCORER_KINDS: dict[str, ScorerKind] = {k.name: k for k in (SCRATCH_LINES, STONE_SEATS, LOOSE_STONES)}
