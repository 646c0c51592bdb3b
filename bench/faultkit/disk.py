"""A small filesystem the campaign can fill to the last byte: a size-limited tmpfs (needs root).

The station's data directory (photos, keys and, on SQLite, the database) lives on it, so a
"disk full" fault is the real ENOSPC from the kernel, not a patched ``write``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from pathlib import Path

FILLER = ".campaign-filler"


class DiskUnavailable(RuntimeError):
    """The small filesystem could not be mounted (not root, or mounts not permitted here)."""


class SmallDisk:
    """``mount -t tmpfs -o size=...`` at ``mountpoint``; ``fill(leave)`` leaves ``leave`` bytes free."""

    def __init__(self, mountpoint: Path, size_mb: int) -> None:
        self.mountpoint = mountpoint
        self.size_mb = size_mb
        self.mounted = False

    def mount(self) -> None:
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        cmd = ["mount", "-t", "tmpfs", "-o", f"size={self.size_mb}m,mode=0755", "tmpfs", str(self.mountpoint)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DiskUnavailable(f"cannot run mount: {exc}") from exc
        if done.returncode != 0:
            raise DiskUnavailable(f"mount -t tmpfs refused: {done.stderr.strip() or done.returncode}")
        self.mounted = True

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.mountpoint)], capture_output=True, timeout=30)
            self.mounted = False
        with contextlib.suppress(OSError):
            self.mountpoint.rmdir()

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.mountpoint).free

    def fill(self, leave: int = 0) -> int:
        """Write a filler file until only ``leave`` bytes are free; returns the filler's size."""
        path = self.mountpoint / FILLER
        want = max(0, self.free_bytes() - leave)
        written = 0
        chunk = b"\0" * (1 << 20)
        with path.open("ab", buffering=0) as f:
            while written < want:
                try:
                    written += f.write(chunk[: min(len(chunk), want - written)]) or 0
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
        return written

    def release(self) -> None:
        """Delete the filler: the disk has room again."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.mountpoint / FILLER)
