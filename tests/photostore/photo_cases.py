"""Photo stores under test, and running code against the same store in another process.

Import as ``from photo_cases import ...`` (the test folder is on ``sys.path``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from inspector.photostore import PhotoStore


@dataclass
class StoreCase:
    """A store under test, how another process opens it, and its database (None for files)."""

    backend: str
    store: PhotoStore
    code: str
    engine: Engine | None = None


ROOT = Path(__file__).resolve().parents[2]
PREAMBLE = """
import os, signal, sys, time
from pathlib import Path
from inspector.db import make_engine
from inspector.photostore import DatabasePhotoStore, FileSystemPhotoStore, Shelf
"""


def elsewhere(case: StoreCase, body: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh Python process with ``store`` opened as ``case`` opens it."""
    script = PREAMBLE + f"store = {case.code}\n" + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
