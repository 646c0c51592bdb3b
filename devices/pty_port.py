"""The cable end of a simulated serial device: a raw pty published under a stable symlink.

Drivers open the symlink exactly as they would ``/dev/ttyUSB0``, so simulators exercise the
real serial code path. ``unplug()`` closes the pty and removes the link (a driver holding the
port gets an I/O error, as with a pulled cable); ``plug()`` creates a fresh pty behind the same
path. The owning simulator serialises calls with its own device thread.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import tty
from pathlib import Path


class PtyPort:
    """``master`` is the device side (non-blocking); ``link`` is the path to give the driver."""

    def __init__(self, link: str | os.PathLike[str] | None, *, prefix: str, name: str) -> None:
        """Without ``link``, the symlink ``name`` lives in a private temp dir removed by ``close()``."""
        self._own_dir: str | None = None
        if link is None:
            self._own_dir = tempfile.mkdtemp(prefix=prefix)
            link = Path(self._own_dir) / name
        self.link = Path(link)
        self.master: int | None = None
        self._slave: int | None = None
        self.pty_path: str | None = None

    @property
    def plugged(self) -> bool:
        return self.master is not None

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing: a byte-clean line like a cable
        os.set_blocking(master, False)
        self.master, self._slave = master, slave
        self.pty_path = os.ttyname(slave)
        # Swap the link atomically so a driver polling the path never sees it half-made.
        tmp = self.link.with_name(self.link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(self.pty_path, tmp)
        os.replace(tmp, self.link)

    def unplug(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self.master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self._slave = None
        self.pty_path = None

    def close(self) -> None:
        """Unplug for good and remove the temp dir this port made, if any."""
        self.unplug()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None
