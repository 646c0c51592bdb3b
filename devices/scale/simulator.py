"""A simulated MT-SICS balance behind a real pseudo-terminal.

The driver opens the pty slave exactly as it would open ``/dev/ttyUSB0``, so tests and
the demo exercise the real serial code path. The port is published under a stable
symlink; ``unplug()`` closes the pty (the driver's next read fails like a pulled cable)
and removes the link, ``replug()`` creates a new pty behind the same link.

Physics, kept simple but honest: a placed load reads as *dynamic* with decaying noise for
``settle_s`` seconds, then stable at its exact value; tare and zero offsets are kept like
a real balance; loads beyond capacity reply overload.

Run standalone: ``python -m devices.scale.simulator`` prints the port path, then reads
``place <mg>`` / ``remove`` / ``unplug`` / ``replug`` / ``quit`` lines on stdin.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import select
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from devices.pty_port import PtyPort
from devices.scale.sics import UNIT_MG, format_weight_reply
from devices.sim_runner import no_args, serve_stdin_commands

_DECIMALS = {"mg": 0, "g": 3, "kg": 6, "ct": 3}


@dataclass
class ScaleFaults:
    """Fault switches. Counters (``*_next``) apply to that many coming replies; rates
    apply to every reply with that probability (seeded, so runs are reproducible)."""

    corrupt_next: int = 0
    drop_next: int = 0
    corrupt_rate: float = 0.0
    drop_rate: float = 0.0
    delay_s: float = 0.0
    unplug_on_next_command: bool = False
    stale_next: int = 0
    """That many coming replies are preceded by a late ``ES``: the answer to an earlier line the
    balance could not parse (another driver probing the port, line noise), arriving after the
    driver flushed its input."""


class ScaleSimulator:
    """Simulated balance. ``start()`` returns the port path to give the driver."""

    def __init__(
        self,
        *,
        link: str | os.PathLike[str] | None = None,
        serial_number: str = "B947023614",
        model: str = "XS205DU",
        firmware: str = "2.10 SIM",
        capacity_mg: int = 220_000,
        unit: str = "g",
        settle_s: float = 0.3,
        noise_mg: int = 40,
        stability_wait_s: float = 0.5,
        seed: int = 0,
        baud: int | None = None,
    ) -> None:
        if unit not in UNIT_MG:
            raise ValueError(f"unit must be one of {sorted(UNIT_MG)}")
        self._port = PtyPort(link, prefix="simscale-", name="ttySCALE")
        self.serial_number = serial_number
        self.model = model
        self.firmware = firmware
        self.capacity_mg = capacity_mg
        self.unit = unit
        self.settle_s = settle_s
        self.noise_mg = noise_mg
        self.stability_wait_s = stability_wait_s
        self.baud = baud
        """When set, replies are paced to this line rate (10 bits per byte, 8N1): a pty is
        instant, and latency figures measured against it would flatter the driver."""
        self.faults = ScaleFaults()
        self.received: list[str] = []
        self.pan_missing = False
        self._rng = random.Random(seed)
        self._gross_mg = 0
        self._zero_mg = 0
        self._tare_mg = 0
        self._settle_from = 0.0
        self._settle_until = 0.0
        self._io_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._interrupt = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def link(self) -> Path:
        """Stable path of the port; survives unplug/replug."""
        return self._port.link

    @property
    def path(self) -> str:
        return str(self.link)

    @property
    def plugged(self) -> bool:
        return self._port.plugged

    def start(self) -> str:
        if self._thread is not None:
            return self.path
        self._port.plug()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scale-simulator", daemon=True)
        self._thread.start()
        return self.path

    def stop(self) -> None:
        self._stop.set()
        self._interrupt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._port.close()

    def __enter__(self) -> ScaleSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """Pull the cable: the port vanishes and a driver holding it gets an I/O error."""
        self._interrupt.set()
        with self._io_lock:
            self._port.unplug()
            self._interrupt.clear()

    def replug(self) -> None:
        """Plug back in: a fresh pty appears behind the same path."""
        with self._io_lock:
            if self._port.master is None:
                self._port.plug()

    # -- the load -----------------------------------------------------------------------
    def place(self, mg: int, settle_s: float | None = None) -> None:
        """Put a load of ``mg`` milligrams on the pan (replaces the previous load)."""
        now = time.monotonic()
        with self._state_lock:
            self._gross_mg = int(mg)
            self._settle_from = now
            self._settle_until = now + (self.settle_s if settle_s is None else settle_s)

    def remove(self, settle_s: float | None = None) -> None:
        self.place(0, settle_s)

    def _reading(self) -> tuple[int, bool]:
        """Current displayed net weight and whether it is stable."""
        now = time.monotonic()
        with self._state_lock:
            net = self._gross_mg - self._zero_mg - self._tare_mg
            if now >= self._settle_until:
                return net, True
            span = max(1e-6, self._settle_until - self._settle_from)
            left = (self._settle_until - now) / span
            amplitude = self.noise_mg * left
            wobble = round(amplitude * math.sin(now * 40.0) + self._rng.uniform(-1, 1) * amplitude)
            return net + (wobble or 1), False

    def _load_state(self) -> str | None:
        with self._state_lock:
            if self.pan_missing:
                return "-"
            if self._gross_mg - self._zero_mg > self.capacity_mg:
                return "+"
        return None

    def _wait_stable(self) -> bool:
        """Block like a balance does for ``S``/``T``/``Z``, up to ``stability_wait_s``."""
        deadline = time.monotonic() + self.stability_wait_s
        while True:
            with self._state_lock:
                until = self._settle_until
            now = time.monotonic()
            if now >= until:
                return True
            if until > deadline:
                self._interrupt.wait(max(0.0, deadline - now))
                return False
            if self._interrupt.wait(until - now):
                return False

    def _weight_line(self, cmd: str, status: str, mg: int) -> bytes:
        return format_weight_reply(cmd, status, mg, self.unit, _DECIMALS[self.unit])

    # -- protocol -----------------------------------------------------------------------
    def handle(self, line: bytes) -> bytes | None:
        """Answer one command line (without CR LF). Public so tests can drive it directly."""
        try:
            cmd = line.decode("ascii").strip()
        except UnicodeDecodeError:
            return b"ET\r\n"
        if not cmd:
            return None
        self.received.append(cmd)
        if cmd == "@":
            with self._state_lock:
                self._tare_mg = 0
            return f'I4 A "{self.serial_number}"\r\n'.encode()
        if cmd == "I2":
            cap = f"{self.capacity_mg / 1000:.3f}"
            return f'I2 A "{self.model} {cap} g"\r\n'.encode()
        if cmd == "I3":
            return f'I3 A "{self.firmware}"\r\n'.encode()
        if cmd == "I4":
            return f'I4 A "{self.serial_number}"\r\n'.encode()
        if cmd in {"S", "SI", "T", "Z", "ZI", "TA", "TAC"}:
            return self._weighing(cmd)
        return b"ES\r\n"

    def _weighing(self, cmd: str) -> bytes:
        if cmd == "TA":
            with self._state_lock:
                tare = self._tare_mg
            return self._weight_line("TA", "A", tare)
        if cmd == "TAC":
            with self._state_lock:
                self._tare_mg = 0
            return b"TAC A\r\n"
        reply_id = "S" if cmd in {"S", "SI"} else cmd
        bad = self._load_state()
        if bad:
            return f"{reply_id} {bad}\r\n".encode()
        if cmd == "SI":
            mg, stable = self._reading()
            return self._weight_line("S", "S" if stable else "D", mg)
        if cmd == "ZI":
            _, stable = self._reading()
            with self._state_lock:
                self._zero_mg = self._gross_mg
                self._tare_mg = 0
            return b"ZI S\r\n" if stable else b"ZI D\r\n"
        if not self._wait_stable():
            return f"{reply_id} I\r\n".encode()
        if cmd == "S":
            mg, _ = self._reading()
            return self._weight_line("S", "S", mg)
        if cmd == "T":
            with self._state_lock:
                self._tare_mg = self._gross_mg - self._zero_mg
                tare = self._tare_mg
            return self._weight_line("T", "S", tare)
        with self._state_lock:  # Z
            self._zero_mg = self._gross_mg
            self._tare_mg = 0
        return b"Z A\r\n"

    def _apply_faults(self, reply: bytes) -> bytes | None:
        f = self.faults
        if f.delay_s > 0:
            self._interrupt.wait(f.delay_s)
        if f.drop_next > 0:
            f.drop_next -= 1
            return None
        if f.drop_rate and self._rng.random() < f.drop_rate:
            return None
        if f.corrupt_next > 0 or (f.corrupt_rate and self._rng.random() < f.corrupt_rate):
            f.corrupt_next = max(0, f.corrupt_next - 1)
            data = bytearray(reply)
            pos = self._rng.randrange(0, max(1, len(data) - 2))
            data[pos] = self._rng.randrange(0x80, 0x100)  # what a framing/parity error looks like
            return bytes(data)
        if f.stale_next > 0:
            f.stale_next -= 1
            return b"ES\r\n" + reply
        return reply

    def _run(self) -> None:
        buf = bytearray()
        while not self._stop.is_set():
            with self._io_lock:
                master = self._port.master
                if master is None:
                    buf.clear()
                else:
                    try:
                        ready, _, _ = select.select([master], [], [], 0.05)
                        if ready:
                            buf += os.read(master, 1024)
                    except OSError:
                        ready = []
                    while b"\n" in buf and self._port.master is not None:
                        raw, _, rest = bytes(buf).partition(b"\n")
                        buf[:] = rest
                        if self.faults.unplug_on_next_command:
                            self.faults.unplug_on_next_command = False
                            self.received.append(raw.rstrip(b"\r").decode("ascii", "replace"))
                            self._port.unplug()
                            break
                        reply = self.handle(raw.rstrip(b"\r"))
                        if reply is not None:
                            reply = self._apply_faults(reply)
                        if reply is not None and self.baud:
                            wire = len(raw) + 1 + len(reply)  # command in + reply out
                            self._interrupt.wait(wire * 10.0 / self.baud)
                        out = self._port.master
                        if reply is not None and out is not None and not self._interrupt.is_set():
                            with contextlib.suppress(OSError):
                                os.write(out, reply)
                    if len(buf) > 4096:  # a runaway line without terminator: drop it
                        buf.clear()
            if master is None:
                self._stop.wait(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devices.scale.simulator",
        description="Simulated MT-SICS balance on a pseudo-terminal. Prints the port path; "
        "then type 'place <mg>', 'remove', 'unplug', 'replug' or 'quit'.",
    )
    parser.add_argument("--link", help="stable path for the port (default: a temp dir)")
    parser.add_argument("--serial", default="B947023614", help="serial number reported by I4")
    parser.add_argument("--settle", type=float, default=0.3, help="seconds a new load stays dynamic")
    parser.add_argument("--unit", default="g", choices=sorted(UNIT_MG))
    args = parser.parse_args(argv)
    sim = ScaleSimulator(link=args.link, serial_number=args.serial, settle_s=args.settle, unit=args.unit)
    print(sim.start(), flush=True)

    def place(args: list[str]) -> None:
        if len(args) != 1 or not args[0].lstrip("-").isdigit():
            raise ValueError("place takes a whole number of milligrams")
        sim.place(int(args[0]))

    commands = {
        "place": place,
        "remove": no_args(sim.remove),
        "unplug": no_args(sim.unplug),
        "replug": no_args(sim.replug),
    }
    return serve_stdin_commands(commands, "commands: place <mg> | remove | unplug | replug | quit", sim.stop)


if __name__ == "__main__":
    sys.exit(main())
