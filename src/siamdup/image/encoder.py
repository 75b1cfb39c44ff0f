"""The image encoder: a small CNN in the spirit of the reference design's twin networks.

image (1 × size × size) → `blocks` × [3×3 conv → batch norm → ReLU → 2×2 max pool] → global average pool →
linear → L2 normalise. Its output is a unit vector like the text encoder's, so the same cosine, τ, losses
and index apply.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ImageEncoderConfig:
    """The CNN's shape: input `size` (pixels a side), conv `blocks` of `channels` filters, output `dim`."""

    size: int = 28
    channels: int = 64
    blocks: int = 4
    dim: int = 128

    def to_dict(self) -> dict:
        return asdict(self)


class ImageEncoder(nn.Module):
    """Batches of images (b, size, size) or (b, 1, size, size), ink high → unit vectors (b, dim)."""

    architecture = "cnn"

    def __init__(self, config: ImageEncoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or ImageEncoderConfig()
        layers: list[nn.Module] = []
        channels_in = 1
        for _ in range(self.config.blocks):
            layers += [
                nn.Conv2d(channels_in, self.config.channels, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(self.config.channels),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            channels_in = self.config.channels
        self.features = nn.Sequential(*layers)
        self.project = nn.Linear(self.config.channels, self.config.dim)

    @property
    def dim(self) -> int:
        return self.config.dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() == 3:
            images = images.unsqueeze(1)
        pooled = self.features(images).mean(dim=(2, 3))
        return nn.functional.normalize(self.project(pooled), dim=1)
