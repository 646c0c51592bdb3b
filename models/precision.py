"""Which arithmetic a training step runs in: float32, or bfloat16 autocast where the CPU makes it pay.

The rebuild has a fixed wall-clock budget, so steps per minute are model quality: on a CPU with
AMX/AVX-512 BF16 units, bfloat16 autocast ran 2.3x the float32 steps per minute on one thread
(``bench/train_throughput.py``; 2.2-2.9x at the start of the training runs of 2026-12-03), and rare
defects are learnt only with enough steps of their own (models/jewelry_defects.md). A CPU without
such units runs it far slower (an AMD EPYC with AVX2 only, 2026-12-03: 0.09-0.13x), so the choice is
measured on the real network and batch, not guessed from CPU flags. Weights, optimiser state and the
exported ONNX model stay float32 either way; only the forward pass's convolutions run in bfloat16.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

from models.step import train_step

BF16_MIN_SPEEDUP = 1.2
"""bfloat16 is used only when it is at least this much faster: below that, its rounding is not worth it."""

BF16_GIVE_UP = 2.0
"""The bfloat16 timing stops once it has taken this many times what float32 took for as many steps
(warm-up included): it cannot win from there. On a CPU without the units (2026-12-03, one thread, a
jewelry batch) a bfloat16 step cost about 9 float32 steps, and the whole check took 99 s of a stage's
budget for the shipped net and 224 s for a 1.5x wider one; cut short, 42 s and 93 s."""


WARMUP_STEPS, TIMED_STEPS = 2, 4


def steps_per_second(net: Any, xt: Any, yt: Any, bf16: bool, give_up_after: float = math.inf) -> float:
    """Real steps (forward, loss, backward, AdamW) of a copy of ``net``: the network itself is untouched.

    Past ``give_up_after`` seconds it stops and returns the rate of the steps done so far, warm-up
    included: an underestimate, given only when the answer is "slower" anyway."""
    import torch

    trial = copy.deepcopy(net)
    trial.train()
    opt = torch.optim.AdamW(trial.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = t0 = time.perf_counter()
    for i in range(WARMUP_STEPS + TIMED_STEPS):
        if i == WARMUP_STEPS:
            t0 = time.perf_counter()
        train_step(trial, opt, loss_fn, xt, yt, 0.0, bf16)
        elapsed = time.perf_counter() - start
        if elapsed > give_up_after:
            return (i + 1) / elapsed
    return TIMED_STEPS / (time.perf_counter() - t0)


def choose_bf16(net: Any, xt: Any, yt: Any) -> tuple[bool, float]:
    """Whether to train in bfloat16 autocast, and the measured speed-up over float32 (where bfloat16
    was given up on, an underestimate of it)."""
    fp32 = steps_per_second(net, xt, yt, bf16=False)
    budget = BF16_GIVE_UP * (WARMUP_STEPS + TIMED_STEPS) / fp32
    bf16 = steps_per_second(net, xt, yt, bf16=True, give_up_after=budget)
    speedup = bf16 / fp32
    return speedup >= BF16_MIN_SPEEDUP, speedup
