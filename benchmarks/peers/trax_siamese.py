"""The course's Siamese network in Trax (Embedding -> LSTM -> Mean -> Normalize, its triplet loss,
Adam 0.01 with warm-up and rsqrt decay, `training.Loop`), timed on siamdup's token ids.

Run by `python -m benchmarks.speed.train_encode --with-peers` inside a virtual environment holding trax==1.4.1.
"""

from __future__ import annotations

import itertools
import os
import time
from functools import partial
from importlib.metadata import version

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import trax
from trax import fastmath, shapes
from trax import layers as tl
from trax.fastmath import numpy as fastnp
from trax.supervised import training

from benchmarks.peers.common import batches, best_seconds, median_ms, parse_args, read_ids, report


def Siamese(vocab_size: int, d_model: int = 128, mode: str = "train"):
    def normalize(x):
        return x / fastnp.sqrt(fastnp.sum(x * x, axis=-1, keepdims=True))

    q_processor = tl.Serial(
        tl.Embedding(vocab_size, d_model),
        tl.LSTM(d_model),
        tl.Mean(axis=1),
        tl.Fn("Normalize", normalize),
    )
    return tl.Parallel(q_processor, q_processor)


def TripletLossFn(v1, v2, margin=0.25):
    scores = fastnp.dot(v1, v2.T)
    batch_size = len(scores)
    positive = fastnp.diagonal(scores)
    negative_without_positive = scores - 2.0 * fastnp.eye(batch_size)
    closest_negative = negative_without_positive.max(axis=1)
    negative_zero_on_duplicate = scores * (1.0 - fastnp.eye(batch_size))
    mean_negative = fastnp.sum(negative_zero_on_duplicate, axis=1) / (batch_size - 1)
    triplet_loss1 = fastnp.maximum(0.0, margin - positive + closest_negative)
    triplet_loss2 = fastnp.maximum(0.0, margin - positive + mean_negative)
    return fastnp.mean(triplet_loss1 + triplet_loss2)


def TripletLoss(margin=0.25):
    return tl.Fn("TripletLoss", partial(TripletLossFn, margin=margin))


def pad_pow2(questions: list[list[int]]) -> np.ndarray:
    """As the course's data generator: pad to the next power of two of the longest question."""
    longest = 2 ** int(np.ceil(np.log2(max(len(q) for q in questions))))
    out = np.zeros((len(questions), longest), dtype=np.int32)
    for row, q in enumerate(questions):
        out[row, : len(q)] = q
    return out


def main() -> None:
    args = parse_args(__doc__)
    data = read_ids(args.ids)
    vocab_size = data["vocab_size"]
    train_batches = [
        (pad_pow2(a), pad_pow2(b))
        for a, b in batches(data["q1"], data["q2"], args.batch_size, args.warmup + args.steps)
    ]
    train_task = training.TrainTask(
        labeled_data=itertools.cycle(train_batches),  # TrainTask takes one as a sample
        loss_layer=TripletLoss(),
        optimizer=trax.optimizers.Adam(0.01),
        lr_schedule=trax.lr.warmup_and_rsqrt_decay(400, 0.01),
    )
    loop = training.Loop(Siamese(vocab_size, args.d_model), train_task)
    loop.run(args.warmup)
    start = time.perf_counter()
    loop.run(args.warmup + args.steps)  # run(n) goes on to step n
    train_seconds = time.perf_counter() - start
    tokens = sum(
        len(q)
        for a, b in batches(data["q1"], data["q2"], args.batch_size, args.warmup + args.steps)[args.warmup :]
        for q in a + b
    )

    # Encoding: one tower of the trained model, jit-compiled, on length-sorted batches of 512.
    q_processor = Siamese(vocab_size, args.d_model, mode="eval").sublayers[0]
    q_processor.init(shapes.signature(train_batches[0][0]))
    q_processor.weights = loop.model.sublayers[0].weights
    forward = fastmath.jit(lambda x, w, s: q_processor.pure_fn(x, w, s, None)[0])
    w, s = q_processor.weights, q_processor.state
    questions = sorted(data["encode"], key=len)
    encode_batches = [pad_pow2(questions[i : i + 512]) for i in range(0, len(questions), 512)]
    for x in encode_batches:  # compile once per padded shape
        np.asarray(forward(x, w, s))
    encode_seconds = best_seconds(lambda: [np.asarray(forward(x, w, s)) for x in encode_batches])
    singles = [pad_pow2([q]) for q in data["encode"][:500]]
    latency = median_ms(lambda x: np.asarray(forward(x, w, s)), singles)
    report(
        {
            "name": f"Trax {version('trax')} (JAX {version('jax')})",
            "train_pairs_per_s": args.steps * args.batch_size / train_seconds,
            "train_tokens_per_s": tokens / train_seconds,
            "encode_ids_per_s": len(questions) / encode_seconds,
            "single_ids_ms": latency,
        }
    )


if __name__ == "__main__":
    main()
