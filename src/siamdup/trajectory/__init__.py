"""The trajectory modality: pen-point readers, features and the LSTM front that encodes them."""

from siamdup.trajectory.points import (
    Signature,
    Trajectory,
    TrajectoryFormatError,
    parse_trajectory,
    read_trajectory,
)

__all__ = ["Signature", "Trajectory", "TrajectoryFormatError", "parse_trajectory", "read_trajectory"]
