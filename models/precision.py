"""Which arithmetic a training step runs in: float32, or bfloat16 autocast where the CPU makes it pay.

The rebuild has a fixed wall-clock budget, so steps per minute are model quality: on a CPU with
AMX/AVX-512 BF16 units, bfloat16 autocast ran 2.3x the float32 steps per minute on one thread
(``bench/train_throughput.py``; 2.2-2.9x at the start of the training runs of 2026-12-03), and rare
defects are learnt only with enough steps of their own (models/jewelry_defects.md). A CPU without
such units may run bfloat16 slower than float32 (not measured here), so the choice is measured on the
real network and batch, not guessed from CPU flags. Weights, optimiser state and the exported ONNX
model stay float32 either way; only the forward pass's convolutions run in bfloat16.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

BF16_MIN_SPEEDUP = 1.2
"""bfloat16 is used only when it is at least this much faster: below that, its rounding is not worth it."""


def forward_loss(
    net: Any, loss_fn: Callable[[Any, Any], Any], xt: Any, yt: Any, bf16: bool
) -> tuple[Any, Any]:
    """Logits and loss; with ``bf16`` the forward pass runs under bfloat16 autocast and the loss in
    float32 (bfloat16 keeps about 3 significant digits, too few for the log-probabilities of rare
    classes)."""
    import torch

    if not bf16:
        logits = net(xt)
        return logits, loss_fn(logits, yt)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = net(xt)
    logits = logits.float()
    return logits, loss_fn(logits, yt)


def steps_per_second(net: Any, xt: Any, yt: Any, bf16: bool, steps: int = 4, warmup: int = 2) -> float:
    """Real steps (forward, loss, backward, AdamW) of a copy of ``net``: the network itself is untouched."""
    import torch

    trial = copy.deepcopy(net)
    trial.train()
    opt = torch.optim.AdamW(trial.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        opt.zero_grad()
        _, loss = forward_loss(trial, loss_fn, xt, yt, bf16)
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - t0)


def choose_bf16(net: Any, xt: Any, yt: Any) -> tuple[bool, float]:
    """Whether to train in bfloat16 autocast, and the measured speed-up over float32."""
    fp32 = steps_per_second(net, xt, yt, bf16=False)
    bf16 = steps_per_second(net, xt, yt, bf16=True)
    speedup = bf16 / fp32
    return speedup >= BF16_MIN_SPEEDUP, speedup
