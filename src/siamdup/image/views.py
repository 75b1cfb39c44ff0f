"""Test-time views: a drawing embedded as the mean of its vectors under a few fixed, small affine changes.

A one-shot match rests on a single drawing per character, so a slightly larger or smaller copy of it (the
kind of change the training distortions teach the encoder to ignore) gives another look at the same
character; the mean of the views' unit vectors, normalised again, is steadier than any one of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated

import torch
from pydantic import BaseModel, ConfigDict, Field


class View(BaseModel):
    """One affine change: `rotation` in degrees clockwise, `scale` (above 1 enlarges the drawing), `shift_x`/`shift_y`
    as fractions of the image's width (positive: right/down)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rotation: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] = 0.0
    scale: Annotated[float, Field(ge=0.5, le=2.0, allow_inf_nan=False)] = 1.0
    shift_x: Annotated[float, Field(ge=-0.5, le=0.5, allow_inf_nan=False)] = 0.0
    shift_y: Annotated[float, Field(ge=-0.5, le=0.5, allow_inf_nan=False)] = 0.0

    @property
    def is_identity(self) -> bool:
        return self == View()


IDENTITY = (View(),)
VIEW_SETS: dict[str, tuple[View, ...]] = {
    "none": IDENTITY,
    "scales": (View(), View(scale=0.9), View(scale=1.1)),
    "scales-wide": (View(), View(scale=0.8), View(scale=0.9), View(scale=1.1), View(scale=1.2)),
    "scales-shifts": (
        View(),
        View(scale=0.9),
        View(scale=1.1),
        View(shift_x=0.07),
        View(shift_x=-0.07),
        View(shift_y=0.07),
        View(shift_y=-0.07),
    ),
    "scales-rotations": (
        View(),
        View(scale=0.9),
        View(scale=1.1),
        View(rotation=-8.0),
        View(rotation=8.0),
    ),
}


def warp(images: torch.Tensor, view: View) -> torch.Tensor:
    """`images` (b, h, w), ink high, all changed by `view`; area brought in from outside is blank."""
    if view.is_identity:
        return images
    angle = math.radians(view.rotation)
    # affine_grid maps output to input coordinates, so the inverse change; grid coordinates span 2 a width.
    cos, sin = math.cos(angle) / view.scale, math.sin(angle) / view.scale
    matrix = torch.tensor(
        [[cos, sin, -2 * view.shift_x], [-sin, cos, -2 * view.shift_y]], dtype=images.dtype
    ).expand(images.shape[0], 2, 3)
    grid = torch.nn.functional.affine_grid(
        matrix, [images.shape[0], 1, *images.shape[1:]], align_corners=False
    )
    warped = torch.nn.functional.grid_sample(
        images.unsqueeze(1), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return warped.squeeze(1)


def embed_views(
    encoder: torch.nn.Module, images: torch.Tensor, views: Sequence[View] = IDENTITY
) -> torch.Tensor:
    """Unit vectors (b, d): the normalised mean of `encoder`'s vectors of every view of `images` (b, h, w)."""
    total = sum(encoder(warp(images, view)) for view in views)
    return torch.nn.functional.normalize(total, dim=1)
