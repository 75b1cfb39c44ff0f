"""The settings of an image training run, each declared once, with the checks made before any work."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from siamdup.image.encoder import ImageEncoderConfig
from siamdup.image.views import VIEW_SETS

LOSSES = ("softmax", "triplet")


@dataclass
class ImageTrainConfig:
    """How to train the image encoder (the defaults are those of the measured Omniglot model)."""

    size: int = 28  # pixels a side the drawings are resized to
    channels: int = 64  # filters of each conv block
    blocks: int = 4  # conv blocks, each halving the image
    dim: int = 128  # width of the unit vectors
    classes_per_batch: int = 64  # pairs per batch, each of a different class (character)
    epochs: int = 40
    lr: float = 1e-3
    weight_decay: float = 1e-4
    loss: str = "softmax"  # in-batch softmax, or the reference's mined triplet loss
    scale: float = 20.0  # the softmax's inverse temperature
    margin: float = 0.25  # the triplet loss's α
    augment: bool = True  # Koch et al.'s random affine distortions
    rotations: bool = True  # each character turned by 90°, 180°, 270° counts as three more classes
    views: str = "scales"  # test-time views averaged by the saved model (a name of views.VIEW_SETS)
    validation_alphabets: list[str] = field(default_factory=lambda: ["Balinese", "Early_Aramaic"])
    # Held out: trained without them, and the epoch best on their runs is kept. Not held out: trained on
    # them too (more characters), the last epoch kept, their runs only watched and used for τ.
    hold_out: bool = False
    validation_runs: int = 40  # one-shot runs drawn from the validation alphabets
    ways: int = 20  # characters per validation run
    splits: list[str] = field(default_factory=lambda: ["small1", "small2"])
    patience: int = 1000  # epochs without validation gain before stopping
    max_minutes: float | None = None  # training time budget
    seed: int = 0

    def encoder_config(self) -> ImageEncoderConfig:
        return ImageEncoderConfig(size=self.size, channels=self.channels, blocks=self.blocks, dim=self.dim)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ImageTrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def check(self) -> None:
        """`ValueError` naming the first setting out of range."""
        positive = ("size", "channels", "blocks", "dim", "epochs", "validation_runs", "patience")
        if self.ways < 2:
            raise ValueError(f"ways must be at least 2, not {self.ways}")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.size < 2**self.blocks:
            raise ValueError(
                f"size {self.size} is too small for {self.blocks} blocks (each halves the image)"
            )
        if self.classes_per_batch < 2:
            raise ValueError("classes_per_batch must be at least 2: a batch needs negatives")
        if not self.lr > 0 or self.weight_decay < 0 or not self.scale > 0 or self.margin < 0:
            raise ValueError("lr and scale must be positive, weight_decay and margin not negative")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {self.loss!r}")
        if self.views not in VIEW_SETS:
            raise ValueError(f"views must be one of {', '.join(VIEW_SETS)}, not {self.views!r}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ValueError(f"max_minutes must be positive, not {self.max_minutes}")
