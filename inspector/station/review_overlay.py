"""The marked photos after the operator's review: drawn again from the marks that still count.

The grader's overlay shows what the machine counted. When the operator rejects a mark, or confirms
a possible one the machine did not count, the photo the buyer sees must show the kept marks only,
so each such photo gets a new overlay (the machine's stays in the grade step's record).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from inspector.photostore import PhotoStore
from inspector.station.ports import GraderPort, StepFailed
from inspector.station.review import ITEM_DAMAGED, Decision, changes


def kept_marks(photo: Mapping[str, Any], decided: Mapping[str, Decision]) -> list[dict[str, Any]]:
    """The photo's marks the operator confirmed (counted or possible); not the item-level verdict."""
    return [
        dict(f)
        for f in photo.get("findings") or []
        if f["cls"] != ITEM_DAMAGED and decided.get(str(f["id"])) is Decision.CONFIRM
    ]


def redraw_overlays(
    photos: Sequence[Mapping[str, Any]],
    decisions: Sequence[Mapping[str, Any]],
    store: PhotoStore,
    grader: GraderPort,
) -> list[dict[str, Any]]:
    """``photos`` (the review's final ones) with a new ``overlay_sha256`` where a decision changed
    what is marked; the machine's overlay is kept as ``machine_overlay_sha256``."""
    decided = {str(d["finding"]): Decision(d["decision"]) for d in decisions}
    out = []
    for photo in photos:
        own = photo.get("findings") or []
        changed = any(
            f["cls"] != ITEM_DAMAGED and changes(f, decided.get(str(f["id"]), Decision.CONFIRM)) for f in own
        )
        if not changed or not photo.get("sha256"):
            out.append(dict(photo))
            continue
        img = cv2.imdecode(np.frombuffer(store.get(str(photo["sha256"])), np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise StepFailed(f"stored photo {str(photo['sha256'])[:12]} cannot be decoded")
        png = grader.overlay(img, list(photo.get("item_quad") or []), kept_marks(photo, decided))
        out.append(
            {**photo, "overlay_sha256": store.put(png), "machine_overlay_sha256": photo.get("overlay_sha256")}
        )
    return out
