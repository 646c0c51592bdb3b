"""Which arithmetic a training step runs in: float32, or bfloat16 autocast where the CPU makes it pay.

The rebuild has a fixed wall-clock budget, so steps per minute are model quality: on a CPU with
AMX/AVX-512 BF16 units, bfloat16 autocast ran 2.3x the float32 steps per minute on one thread
(``bench/train_throughput.py``; 2.2-2.9x at the start of the training runs of 2026-12-03), and rare
defects are learnt only with enough steps of their own (jewelry card history). A CPU without
such units runs it far slower (an AMD EPYC with AVX2 only, 2026-12-03: 0.09-0.13x), so the choice is
measured on the real network and batch, not guessed from CPU flags. Weights, optimiser state and the
exported ONNX model stay float32 either way; only the forward pass's convolutions run in bfloat16.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from models.step import train_step

BF16_MIN_SPEEDUP = 1.2
"""bfloat16 is used only when it is at least this much faster: below that, its rounding is not worth it."""

BF16_GIVE_UP = 2.0
"""From the end of the warm-up on, the check stops once bfloat16 has taken this many times what
float32 took for as many steps (warm-up included): it cannot win from there. On a CPU without the
units (2026-12-03, one thread, a jewelry batch) a bfloat16 step cost about 9 float32 steps, and the
whole check took 99 s of a stage's budget for the shipped net and 224 s for a 1.5x wider one."""


WARMUP_STEPS, TIMED_STEPS = 2, 4

Step = Callable[..., Any]


class _Trial:
    """A copy of the network with its own optimiser, so the timing steps never train the real one."""

    def __init__(self, net: Any) -> None:
        import torch

        self.net = copy.deepcopy(net)
        self.net.train()
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=1e-3)
        self.loss_fn = torch.nn.CrossEntropyLoss()


def choose_bf16(
    net: Any, xt: Any, yt: Any, step: Step = train_step, clock: Callable[[], float] = time.perf_counter
) -> tuple[bool, float]:
    """Whether to train in bfloat16 autocast, and the measured speed-up over float32 (where bfloat16
    was given up on, an underestimate of it).

    The two precisions take turns, one real step (forward, loss, backward, AdamW) each, so a load that
    starts during the check slows both alike. Timed one after the other, an evaluation that started
    between the two timings once read 0.50x on a CPU where bfloat16 runs 1.8x, and the stage trained
    in float32 at half the steps."""
    trials = {False: _Trial(net), True: _Trial(net)}
    spent = {False: 0.0, True: 0.0}  # every step, warm-up included
    timed = {False: 0.0, True: 0.0}
    for i in range(WARMUP_STEPS + TIMED_STEPS):
        for bf16 in (False, True):
            trial = trials[bf16]
            t0 = clock()
            step(trial.net, trial.opt, trial.loss_fn, xt, yt, 0.0, bf16)
            dt = clock() - t0
            spent[bf16] += dt
            if i >= WARMUP_STEPS:
                timed[bf16] += dt
        if i + 1 >= WARMUP_STEPS and spent[True] > BF16_GIVE_UP * spent[False]:
            return False, spent[False] / spent[True]
    speedup = timed[False] / timed[True]
    return speedup >= BF16_MIN_SPEEDUP, speedup
