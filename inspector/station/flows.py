"""Inspection flows as data: one ordered list of steps per item kind.

The pipeline never branches on the item kind; it walks the list and dispatches on each
step's ``action``. Adding a check (or reordering the flow) is an edit here, not new code
paths, and every inspection stores the flow it was started with so an old inspection can
still be resumed after the lists change. Labels, hints, field names and choices are English
message ids (``N_``): stored as written, shown in a reader's language (``wording.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from inspector.i18n import N_

ItemKind = Literal["phone", "jewelry"]
ITEM_KINDS: tuple[str, ...] = ("phone", "jewelry")

# Actions the pipeline knows; "operator.*" steps wait for a person at the console.
AUTOMATIC_ACTIONS = (
    "phone.connect",
    "phone.identity",
    "phone.battery",
    "phone.lock",
    "scale.weigh",
    "rig.light",
    "camera.photos",
    "grade",
    "result",
)
OPERATOR_ACTIONS = ("operator.check", "operator.declare", "operator.review")
# The operator confirms or rejects each defect the grader marked; with nothing marked it passes itself.
REVIEW = "operator.review"


@dataclass(frozen=True)
class StepSpec:
    key: str
    action: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def operator(self) -> bool:
        return self.action in OPERATOR_ACTIONS

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepSpec:
        return cls(data["key"], data["action"], data["label"], dict(data.get("params") or {}))


PHONE_FLOW: list[StepSpec] = [
    StepSpec("connect", "phone.connect", N_("Phone connected over USB")),
    StepSpec("identity", "phone.identity", N_("Identity: IMEI, model, storage")),
    StepSpec("battery", "phone.battery", N_("Battery level and health"), {"min_capacity_pct": 80}),
    StepSpec("lock", "phone.lock", N_("Screen lock, FRP and root")),
    StepSpec("light", "rig.light", N_("Light box on"), {"percent": 80}),
    # The glass is photographed dark: a lit screen's wallpaper, icons and text look like cracks.
    StepSpec(
        "photo_screen",
        "camera.photos",
        N_("Photo of the screen"),
        {"side": "screen", "angles": [0], "screen_off": True},
    ),
    StepSpec("photo_back", "camera.photos", N_("Photo of the back"), {"side": "back", "angles": [180]}),
    # The low-angle side camera sees one edge of the frame at each stop: chips and dents on its outline.
    StepSpec(
        "photo_edges",
        "camera.photos",
        N_("Photos of the frame edges"),
        {"side": "edge", "angles": [0, 90, 180, 270], "camera": "side"},
    ),
    StepSpec("grade", "grade", N_("Cosmetic grade")),
    StepSpec("review", REVIEW, N_("Operator review of the marked defects"), {"grade_step": "grade"}),
    StepSpec(
        "check_buttons",
        "operator.check",
        N_("Buttons (power, volume) work"),
        {"hint": N_("Press every hardware button; each must respond.")},
    ),
    StepSpec(
        "check_speaker",
        "operator.check",
        N_("Speaker and microphone work"),
        {"hint": N_("Play a sound, record a voice note and play it back.")},
    ),
    StepSpec(
        "check_cameras",
        "operator.check",
        N_("Front and rear cameras work"),
        {"hint": N_("Open the camera app; both cameras focus and show a clean image.")},
    ),
    StepSpec(
        "check_touch",
        "operator.check",
        N_("Touch screen responds everywhere"),
        {"hint": N_("Drag a finger over the whole screen; no dead zones.")},
    ),
    StepSpec("result", "result", N_("Result and certificate")),
]

JEWELRY_FLOW: list[StepSpec] = [
    StepSpec("weigh", "scale.weigh", N_("Weight (stable reading)")),
    StepSpec("light", "rig.light", N_("Light box on"), {"percent": 90}),
    StepSpec(
        "photos", "camera.photos", N_("Photos on the turntable"), {"side": "top", "angles": [0, 90, 180, 270]}
    ),
    StepSpec("grade", "grade", N_("Condition grade")),
    StepSpec("review", REVIEW, N_("Operator review of the marked defects"), {"grade_step": "grade"}),
    StepSpec(
        "declare",
        "operator.declare",
        N_("Declared metal, hallmark and stones"),
        {
            "fields": [
                {
                    "name": "metal",
                    "label": N_("Metal"),
                    "required": True,
                    "choices": [
                        N_("gold"),
                        N_("white gold"),
                        N_("rose gold"),
                        N_("silver"),
                        N_("platinum"),
                        N_("palladium"),
                        N_("other"),
                    ],
                },
                {"name": "hallmark", "label": N_("Hallmark"), "required": False},
                {"name": "stones", "label": N_("Stones"), "required": False},
            ]
        },
    ),
    StepSpec("result", "result", N_("Result and certificate")),
]

FLOWS: dict[str, list[StepSpec]] = {"phone": PHONE_FLOW, "jewelry": JEWELRY_FLOW}


def flow_for(kind: str) -> list[StepSpec]:
    try:
        return FLOWS[kind]
    except KeyError:
        raise ValueError(f"unknown item kind {kind!r}; expected one of {', '.join(ITEM_KINDS)}") from None


def validate_flows() -> None:
    """Every flow has unique keys, known actions, and ends with its result step."""
    for kind, steps in FLOWS.items():
        keys = [s.key for s in steps]
        if len(set(keys)) != len(keys):
            raise ValueError(f"flow {kind}: duplicate step keys")
        for s in steps:
            if s.action not in AUTOMATIC_ACTIONS + OPERATOR_ACTIONS:
                raise ValueError(f"flow {kind}: step {s.key} has unknown action {s.action}")
        if steps[-1].action != "result":
            raise ValueError(f"flow {kind}: must end with a result step")


validate_flows()
