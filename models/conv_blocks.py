"""The convolution block both pixel networks (``train._net``'s U-Net and ``lite_unet``'s decoder)
are built from."""

from __future__ import annotations

from typing import Any


def double_conv(cin: int, cout: int) -> Any:
    """Two 3 x 3 convolutions, each with BatchNorm and ReLU, at the input's size."""
    from torch import nn  # train extra

    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )
