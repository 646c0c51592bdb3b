"""Training steps per minute on this machine: one process on 1 or 2 torch threads, and two 1-thread
processes side by side (how ``python -m models.train`` trains the phone and jewelry models at once),
each in float32 and in bfloat16 autocast (which ``models.train`` picks where it is measured faster).

    .venv/bin/python bench/train_throughput.py [--seconds 60]

Needs the ``train`` extra (torch). Uses random images and sparse random labels of the phone model's
input size, so no rendering is timed; a step is the real one (batch preparation, forward, loss,
backward, AdamW update).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.step import train_step
from models.train import CLASSES, _net, prepare_batch


def steps_per_minute(threads: int, seconds: float, bf16: bool, batch: int = 16) -> float:
    import torch

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 320, 160, 3), dtype=np.uint8)
    y = np.zeros((64, 320, 160), np.uint8)
    y[:, 100:200, 80] = rng.integers(1, 4, 64)[:, None]  # one thin defect line per item
    n_cls = len(CLASSES["phone"])
    net = _net(n_cls)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    steps, t0 = 0, time.time()
    while time.time() - t0 < seconds:
        idx = rng.integers(0, len(x), batch)
        xb, yb = prepare_batch(x[idx], y[idx], [], rng, 0.6)
        train_step(net, opt, loss_fn, torch.from_numpy(xb), torch.from_numpy(yb), dice_weight=1.0, bf16=bf16)
        steps += 1
    return steps * 60 / (time.time() - t0)


def cpu_name() -> str:
    """The CPU's model name where Linux tells it (``platform.processor()`` is often empty there): the
    bfloat16 figures depend on it."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _child(args: tuple[int, float, bool]) -> float:
    return steps_per_minute(*args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="timed training per configuration")
    args = ap.parse_args()
    ctx = mp.get_context("spawn")  # a fresh torch per process, as two `models.train` runs have
    print(f"machine: {cpu_name()}, {mp.cpu_count()} cores")
    for bf16 in (False, True):
        name = "bfloat16 autocast" if bf16 else "float32"
        with ctx.Pool(1) as pool:
            one = pool.map(_child, [(1, args.seconds, bf16)])[0]
        with ctx.Pool(1) as pool:
            two = pool.map(_child, [(2, args.seconds, bf16)])[0]
        with ctx.Pool(2) as pool:
            pair = pool.map(_child, [(1, args.seconds, bf16), (1, args.seconds, bf16)])
        print(f"{name}: one process, 1 thread : {one:6.1f} steps/min")
        print(f"{name}: one process, 2 threads: {two:6.1f} steps/min ({two / one:.2f}x)")
        print(
            f"{name}: two processes, 1 thread each: {pair[0]:6.1f} + {pair[1]:6.1f} = {sum(pair):6.1f} "
            f"steps/min ({sum(pair) / two:.2f}x the 2-thread process)",
            flush=True,
        )


if __name__ == "__main__":
    main()
