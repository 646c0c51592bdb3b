"""A training run's whole state on disk, so a run cut off part-way goes on where it stopped.

A recipe counts its budget in steps, not minutes, so that a rebuild repeats what shipped; a run of many
steps is then only as long as its machine is slow, and ``make models`` must resume (the team's two-hour
rebuild). What a step depends on is all here: the network's and the optimiser's tensors, the batch
sampler's random state, the epoch's order and where in it the run was. A checkpoint written for other
settings (its ``fingerprint``) is never resumed: the run starts again from step 0.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHECKPOINT_SECONDS = 300.0
"""How often a run saves itself: at most this much training is lost when it is cut off."""


def fingerprint(settings: dict[str, Any], inputs: list[Path]) -> str:
    """What decides every step of a run: its settings (JSON-able values) and the bytes of the files it
    starts from (a stage's ``init`` state, the model it mines with)."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in inputs:
        h.update(path.read_bytes())
    return h.hexdigest()


@dataclass
class Position:
    """Where a run is: steps done, epochs begun, the current epoch's order of scenes and the next
    batch's start in it."""

    step: int
    epoch: int
    order: np.ndarray
    batch_start: int


def save(path: Path, key: str, position: Position, net: Any, opt: Any, rng: np.random.Generator) -> None:
    """Write the run's state next to ``path`` and move it into place, so a cut-off write leaves the
    previous checkpoint whole."""
    import torch

    tmp = path.with_suffix(path.suffix + ".tmp")
    state = {
        "fingerprint": key,
        "step": position.step,
        "epoch": position.epoch,
        "order": torch.from_numpy(position.order.copy()),
        "batch_start": position.batch_start,
        "rng": json.dumps(rng.bit_generator.state),
        "net": net.state_dict(),
        "opt": opt.state_dict(),
    }
    torch.save(state, tmp)
    os.replace(tmp, path)


def resume(path: Path, key: str, net: Any, opt: Any, rng: np.random.Generator) -> Position | None:
    """Load the run's state from ``path`` into ``net``, ``opt`` and ``rng`` when it was written for
    these settings; None (nothing loaded) when there is none or it belongs to other settings."""
    import torch

    if not path.is_file():
        return None
    state = torch.load(path, weights_only=True)
    if state.get("fingerprint") != key:
        return None
    net.load_state_dict(state["net"])
    opt.load_state_dict(state["opt"])
    rng.bit_generator.state = json.loads(state["rng"])
    order = state["order"].numpy()
    return Position(int(state["step"]), int(state["epoch"]), order, int(state["batch_start"]))
