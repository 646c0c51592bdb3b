"""Two processes storing the same photo at the same moment end with one intact photo.

Two platform workers receive the same photo when a station retries an upload the first worker
was still taking. Each process writes half the photo, waits until the other has too, then both
finish and commit at once: the store must end with one photo, whole, and no spare copy.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from photo_cases import PREAMBLE, ROOT, StoreCase
from sqlalchemy import text

WRITER = """
data = Path(sys.argv[1]).read_bytes()
me, other = Path(sys.argv[2]), Path(sys.argv[3])
with store.incoming(sys.argv[4]) as incoming:
    incoming.write(data[: len(data) // 2])
    me.touch()
    deadline = time.monotonic() + 60
    while not other.exists():  # both halves written, neither committed
        assert time.monotonic() < deadline, "the other writer never got halfway"
        time.sleep(0.01)
    incoming.write(data[len(data) // 2 :])
    print(incoming.commit())
"""


@pytest.mark.parametrize("case", ["fs", "database-postgresql"], indirect=True)
def test_two_processes_storing_the_same_photo_at_once_leave_one_intact_photo(
    case: StoreCase, tmp_path: Path
) -> None:
    """Both writers succeed, the photo reads back intact, it is listed once, nothing is left
    half-written, and the database holds one copy of its chunks, not two."""
    photo = os.urandom(2_000_000)
    digest = hashlib.sha256(photo).hexdigest()
    spilled = tmp_path / "photo.bin"
    spilled.write_bytes(photo)
    a, b = tmp_path / "a-halfway", tmp_path / "b-halfway"
    script = PREAMBLE + f"store = {case.code}\n" + WRITER
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(spilled), str(me), str(other), digest],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me, other in ((a, b), (b, a))
    ]
    outputs = [w.communicate(timeout=120) for w in writers]
    for w, (out, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0, err
        assert out.strip() == str(len(photo))

    assert case.store.get(digest) == photo
    assert [(f.digest, f.size) for f in case.store.files()] == [(digest, len(photo))]
    if case.engine is not None:
        with case.engine.connect() as conn:
            chunks = conn.execute(text("select count(*) from photo_chunk")).scalar_one()
            writes = conn.execute(text("select count(*) from photo_upload")).scalar_one()
        assert writes == 1 and chunks == -(-len(photo) // (256 * 1024))
