"""One optimiser step of the segmentation network: its losses and the arithmetic they run in.

Training and the bfloat16 check (models/precision.py) both time and run this same step, so the check
measures what training will do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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


def soft_dice_loss(logits: Any, target: Any) -> Any:
    """1 - soft Dice, averaged over the defect classes (not background), pooled over the batch.

    Cross-entropy alone leaves thin-line probabilities soft (a 1-2 px crack against a 3 px label), so
    specks and line-like edges score as high as real cracks; Dice rewards overlap per class, which
    sharpens the maps, and a class absent from the batch is pushed to zero everywhere."""
    import torch

    probs = torch.softmax(logits, dim=1)[:, 1:]
    onehot = torch.nn.functional.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2)[:, 1:].float()
    inter = (probs * onehot).sum(dim=(0, 2, 3))
    total = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    return (1 - (2 * inter + 1) / (total + 1)).mean()


def train_step(
    net: Any, opt: Any, loss_fn: Any, xt: Any, yt: Any, dice_weight: float, bf16: bool = False
) -> Any:
    """One optimiser step on a prepared batch: cross-entropy, plus ``dice_weight`` x soft Dice; with
    ``bf16`` the forward pass runs in bfloat16 autocast (models/precision.py)."""
    opt.zero_grad()
    logits, loss = forward_loss(net, loss_fn, xt, yt, bf16)
    if dice_weight:
        loss = loss + dice_weight * soft_dice_loss(logits, yt)
    loss.backward()
    opt.step()
    return loss
