"""Affine distortions of drawings, as Koch, Zemel & Salakhutdinov (2015) trained their Siamese network with.

Each image gets its own rotation θ ∈ [−10°, 10°], shear ρx, ρy ∈ [−0.3, 0.3], scale sx, sy ∈ [0.8, 1.2]
and shift tx, ty ∈ [−2, 2] pixels of a 105-pixel image; each of the four parts is applied with
probability 1/2, as in the paper. One `grid_sample` call distorts the whole batch.
"""

from __future__ import annotations

import torch

ROTATION_DEGREES = 10.0
SHEAR = 0.3
SCALE = 0.2
SHIFT = 2.0 / 105.0  # of the image width, so it means the same at every input size


def random_affine(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """`images` (b, h, w), ink high, each distorted at random; the area brought in from outside is blank."""
    b = images.shape[0]

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(*shape, b, generator=generator)

    def applied() -> torch.Tensor:
        return (torch.rand(b, generator=generator) < 0.5).float()

    theta = torch.deg2rad(uniform(-ROTATION_DEGREES, ROTATION_DEGREES)) * applied()
    shear = uniform(-SHEAR, SHEAR, 2) * applied()
    scale = 1 + uniform(-SCALE, SCALE, 2) * applied()
    shift = uniform(-2 * SHIFT, 2 * SHIFT, 2) * applied()  # grid coordinates span 2 per image width
    cos, sin = torch.cos(theta), torch.sin(theta)
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    shearing = torch.stack(
        [torch.stack([torch.ones(b), shear[0]], -1), torch.stack([shear[1], torch.ones(b)], -1)], -2
    )
    scaling = torch.diag_embed(scale.T)
    linear = rotation @ shearing @ scaling
    matrix = torch.cat([linear, shift.T.unsqueeze(-1)], dim=2)
    grid = torch.nn.functional.affine_grid(matrix, [b, 1, *images.shape[1:]], align_corners=False)
    warped = torch.nn.functional.grid_sample(
        images.unsqueeze(1), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return warped.squeeze(1)


def rotated_classes(images: torch.Tensor) -> torch.Tensor:
    """Characters (c, k, h, w) and their rotations by 90°, 180° and 270° as new characters (4c, k, h, w)."""
    return torch.cat([torch.rot90(images, turns, dims=(2, 3)) for turns in range(4)])
