"""Opening a pyserial port by path or URL, with the failure turned into the driver's own error.

Both serial drivers reopen the same path after an unplug, so "cannot open" must be one clear,
catchable error rather than whichever of pyserial's, the OS's or termios' exceptions fired.
"""

from __future__ import annotations

import serial

try:
    import termios

    PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # pragma: no cover - Windows has no termios
    PORT_ERRORS = (serial.SerialException, OSError)
"""What a vanished or broken port raises on I/O."""

OPEN_ERRORS: tuple[type[BaseException], ...] = (*PORT_ERRORS, ValueError)
"""Also ValueError: pyserial's answer to a malformed URL or setting."""


def open_serial(
    url: str,
    device: str,
    error: type[Exception],
    *,
    baudrate: int,
    timeout: float,
    write_timeout: float,
) -> serial.SerialBase:
    """``serial_for_url`` (a tty path, ``socket://``, ``loop://``...); failure raises
    ``error("cannot open <device> port <url>: <why>")``."""
    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, write_timeout=write_timeout)
    except OPEN_ERRORS as exc:
        raise error(f"cannot open {device} port {url}: {exc}") from exc
