"""A scratch models directory for tests that change one shipped model file: the phone grader also
needs the shipped item-level damage model beside it (the backbone linked, not copied: 3.8 MB)."""

from __future__ import annotations

import shutil
from pathlib import Path

from inspector.grading.item_damage import BACKBONE_FILE

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def with_damage_model(models_dir: Path) -> Path:
    """Put the shipped damage backbone and phone head into ``models_dir``; returns it."""
    (models_dir / BACKBONE_FILE).unlink(missing_ok=True)
    (models_dir / BACKBONE_FILE).symlink_to(MODELS_DIR / BACKBONE_FILE)
    shutil.copyfile(MODELS_DIR / "phone_damage_head.json", models_dir / "phone_damage_head.json")
    return models_dir
