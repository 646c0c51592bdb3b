"""The training path itself (models/train.py, models/step.py, models/precision.py), on torch's CPU
build: a step in bfloat16 autocast still learns and keeps float32 weights, the precision check leaves
the network as it was, and a short real run renders scenes, trains and exports a model the grader
loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the training extra (make train-deps) is not installed")

from inspector.grading.model import SegModel  # noqa: E402
from models import train as training  # noqa: E402
from models.backbones import lite0_net  # noqa: E402
from models.lite_unet import lite_unet  # noqa: E402
from models.precision import choose_bf16  # noqa: E402
from models.step import forward_loss, train_step  # noqa: E402

SMALL = (4, 8, 8, 8)


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    """A dark square on a bright field, labelled class 1: something a tiny U-Net learns in a few steps."""
    x = torch.full((4, 3, 32, 32), 0.8)
    y = torch.zeros((4, 32, 32), dtype=torch.int64)
    x[:, :, 8:20, 10:22] = 0.1
    y[:, 8:20, 10:22] = 1
    return x, y


@pytest.mark.parametrize("bf16", [False, True])
def test_a_step_learns_and_keeps_float32_weights(bf16: bool) -> None:
    """Proves: 40 steps in either precision cut the loss to under half and the weights stay float32
    (bfloat16 is for the forward pass only, so the exported ONNX model stays float32)."""
    torch.manual_seed(0)
    net = training._net(1, SMALL)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = _batch()
    first = float(train_step(net, opt, loss_fn, x, y, dice_weight=0.5, bf16=bf16).item())
    for _ in range(39):
        last = float(train_step(net, opt, loss_fn, x, y, dice_weight=0.5, bf16=bf16).item())
    assert last < first / 2
    assert all(p.dtype == torch.float32 for p in net.parameters())
    logits, loss = forward_loss(net, loss_fn, x, y, bf16)
    assert logits.dtype == torch.float32 and loss.dtype == torch.float32


def test_choosing_the_precision_does_not_train_the_network() -> None:
    """Proves: the timing steps are real steps (six turns, or two when bfloat16 is given up on) run on
    copies; the network's weights and batch-norm statistics are what they were, and the answer is a
    decision with the speed-up it was based on."""
    torch.manual_seed(0)
    net = training._net(1, SMALL)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    forwards: list[int] = []
    net.register_forward_hook(lambda *_: forwards.append(1))  # both timing copies keep the hook
    use, speedup = choose_bf16(net, *_batch())
    assert isinstance(use, bool) and speedup > 0
    assert len(forwards) in (4, 12)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


class _FakeCpu:
    """A clock that only the fake steps move: a float32 step costs 1, a bfloat16 step ``bf16_cost``,
    and from step ``load_from`` on (counting both precisions) every step costs ``load`` times more."""

    def __init__(self, bf16_cost: float, load_from: int = 10**9, load: float = 1.0) -> None:
        self.now, self.calls, self.bf16_calls = 0.0, 0, 0
        self.bf16_cost, self.load_from, self.load = bf16_cost, load_from, load

    def clock(self) -> float:
        return self.now

    def step(self, *args: object) -> None:
        bf16 = bool(args[-1])
        self.bf16_calls += bf16
        cost = self.bf16_cost if bf16 else 1.0
        self.now += cost * (self.load if self.calls >= self.load_from else 1.0)
        self.calls += 1


def test_a_load_that_starts_during_the_check_does_not_decide_it() -> None:
    """Proves: on a CPU where bfloat16 steps take half as long, a load that triples every step's time
    from the fifth step on (an evaluation started beside the training) still reads 2x and picks
    bfloat16: the precisions take turns, so the load slows both alike."""
    net = training._net(1, SMALL)
    cpu = _FakeCpu(bf16_cost=0.5, load_from=4, load=3.0)
    use, speedup = choose_bf16(net, *_batch(), step=cpu.step, clock=cpu.clock)
    assert use and speedup == pytest.approx(2.0)


def test_a_cpu_without_bfloat16_units_gives_up_after_the_warm_up() -> None:
    """Proves: where a bfloat16 step costs 9 float32 steps, the check stops after the two warm-up
    turns (two slow steps, not six) and answers float32 with the speed-up it saw."""
    net = training._net(1, SMALL)
    cpu = _FakeCpu(bf16_cost=9.0)
    use, speedup = choose_bf16(net, *_batch(), step=cpu.step, clock=cpu.clock)
    assert not use and cpu.bf16_calls == 2 and speedup == pytest.approx(1 / 9)


def test_a_short_training_run_exports_a_model_the_grader_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proves: train() renders its scenes, trains, records its precision and step count, and writes an
    ONNX file that the station's SegModel loads with the kind's classes and runs on a crop."""
    monkeypatch.setattr(training, "WORK_DIR", tmp_path / "work")
    out = tmp_path / "jewelry_defects.onnx"
    info = training.train("jewelry", 12, 0.05, out, threads=1, batch=8, crop=64)
    assert info["steps"] > 0 and info["precision"] in ("float32", "bfloat16 autocast")
    assert (tmp_path / "work" / "jewelry_state.pt").is_file()
    model = SegModel(out, "jewelry", threads=1)
    assert model.info.classes[1:] == training.CLASSES["jewelry"]
    probs = model.predict(np.full((256, 256, 3), 128, np.uint8))
    assert probs.shape == (len(training.CLASSES["jewelry"]) + 1, 256, 256)
    assert np.allclose(probs.sum(axis=0), 1.0, atol=1e-3)


def test_float32_can_be_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proves: ``float32=True`` (``--float32``) trains in float32 whatever the CPU, as v4.0/v2.0 were."""
    monkeypatch.setattr(training, "WORK_DIR", tmp_path / "work")
    info = training.train("jewelry", 12, 0.02, tmp_path / "m.onnx", threads=1, batch=8, crop=64, float32=True)
    assert info["precision"] == "float32" and info["bf16_speedup"] == 1.0


class _CutOff(Exception):
    """The power going off in the middle of a step."""


def _recipe_run(tmp_path: Path, name: str, steps: int, **settings: object) -> dict[str, torch.Tensor]:
    """A recipe-style run (a step budget, a checkpoint) of a tiny jewelry model; its final weights."""
    state = tmp_path / f"{name}_state.pt"
    training.train(
        "jewelry",
        12,
        1.0,
        tmp_path / f"{name}.onnx",
        threads=1,
        batch=8,
        crop=64,
        steps=steps,
        checkpoint=tmp_path / f"{name}_checkpoint.pt",
        state_path=state,
        **settings,  # type: ignore[arg-type]
    )
    return dict(torch.load(state, weights_only=True))


def test_a_run_cut_off_part_way_resumes_and_ends_where_an_uncut_run_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proves: a recipe's run counts steps, not minutes, and is saved as it goes; cut off in its fifth
    step and started again, it resumes from its checkpoint (not from step 0) and ends with the very
    weights of a run that was never cut off, so `make models` can be stopped and run again."""
    monkeypatch.setattr(training, "WORK_DIR", tmp_path / "work")
    monkeypatch.setattr(training.checkpoints, "CHECKPOINT_SECONDS", 0.0)
    uncut = _recipe_run(tmp_path, "uncut", 7)
    real_step = training.train_step
    calls: list[int] = []

    def step_then_cut(*args: object) -> object:
        calls.append(1)
        if len(calls) == 5:
            raise _CutOff
        return real_step(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(training, "train_step", step_then_cut)
    with pytest.raises(_CutOff):
        _recipe_run(tmp_path, "cut", 7)
    calls.clear()
    monkeypatch.setattr(training, "train_step", lambda *args: (calls.append(1), real_step(*args))[1])
    resumed = _recipe_run(tmp_path, "cut", 7)
    assert len(calls) == 3, "the second run went on from step 4, not from the start"
    assert uncut.keys() == resumed.keys()
    assert all(torch.equal(uncut[k], resumed[k]) for k in uncut)


def test_a_checkpoint_of_other_settings_is_not_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proves: a checkpoint left by a run with other settings (here another learning rate) is not
    taken up: the new run trains all its steps from the start."""
    monkeypatch.setattr(training, "WORK_DIR", tmp_path / "work")
    monkeypatch.setattr(training.checkpoints, "CHECKPOINT_SECONDS", 0.0)
    _recipe_run(tmp_path, "run", 3, lr0=1e-2)
    real_step = training.train_step
    calls: list[int] = []
    monkeypatch.setattr(training, "train_step", lambda *args: (calls.append(1), real_step(*args))[1])
    _recipe_run(tmp_path, "run", 3, lr0=1e-3)
    assert len(calls) == 3


def test_the_pretrained_encoder_starts_from_its_imagenet_weights() -> None:
    """Proves: ``encoder: lite0`` builds on EfficientNet-Lite0's shipped ImageNet weights (not a
    random start), and answers at the input's size as the U-Net does."""
    net = lite_unet(3)
    assert torch.equal(net.stem[0].weight, lite0_net()._conv_stem.weight)
    with torch.no_grad():
        assert net.eval()(torch.rand(1, 3, 320, 160)).shape == (1, 4, 320, 160)


def test_a_phone_network_with_the_pretrained_encoder_exports_what_the_grader_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proves: a recipe stage with ``encoder: lite0`` trains its steps and writes an ONNX file the
    station's SegModel loads and runs like the U-Net's (same input, classes and output)."""
    monkeypatch.setattr(training, "WORK_DIR", tmp_path / "work")
    out = tmp_path / "phone_defects.onnx"
    info = training.train(
        "phone",
        12,
        1.0,
        out,
        threads=1,
        batch=8,
        crop=64,
        steps=2,
        encoder="lite0",
        checkpoint=tmp_path / "ck.pt",
    )
    assert info["steps"] == 2 and info["encoder"] == "lite0"
    model = SegModel(out, "phone", threads=1)
    assert model.info.classes[1:] == training.CLASSES["phone"]
    probs = model.predict(np.full((320, 160, 3), 128, np.uint8))
    assert probs.shape == (len(training.CLASSES["phone"]) + 1, 320, 160)
    assert np.allclose(probs.sum(axis=0), 1.0, atol=1e-3)


def test_an_unknown_encoder_is_refused_before_any_rendering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proves: a recipe naming an encoder that does not exist fails at once with the choices named,
    not after minutes of rendering."""
    monkeypatch.setattr(training, "WORK_DIR", tmp_path / "work")
    with pytest.raises(ValueError, match=r"unknown encoder 'resnet'.*lite0"):
        training.train("phone", 12, 1.0, tmp_path / "m.onnx", encoder="resnet")
    assert not (tmp_path / "work").exists()
