"""Losses for Siamese training; each takes unit vectors and returns a scalar."""

from siamdup.losses.contrastive import ContrastiveLoss
from siamdup.losses.in_batch_softmax import InBatchSoftmaxLoss
from siamdup.losses.mined_triplet import MinedTripletLoss
from siamdup.losses.triplet import TripletLoss

__all__ = ["ContrastiveLoss", "InBatchSoftmaxLoss", "MinedTripletLoss", "TripletLoss"]
