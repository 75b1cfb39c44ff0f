"""The same Siamese LSTM built from sentence-transformers modules (WordEmbeddings -> LSTM -> mean
Pooling -> Normalize), trained by its SentenceTransformerTrainer with MultipleNegativesRankingLoss, and
timed on siamdup's token ids (written as space-separated numbers, one vocabulary entry per id).

Run by `python -m benchmarks.speed.train_encode --with-peers` inside a virtual environment holding sentence-transformers.
"""

from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import sentence_transformers
import torch
from datasets import Dataset
from sentence_transformers import (
    SentenceTransformer,
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
    losses,
)
from sentence_transformers.sentence_transformer import modules
from transformers import TrainerCallback

from benchmarks.peers.common import batches, best_seconds, median_ms, parse_args, read_ids, report


class StepTimes(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter())


def as_text(ids: list[int]) -> str:
    return " ".join(map(str, ids))


def main() -> None:
    args = parse_args(__doc__)
    data = read_ids(args.ids)
    vocab = [str(i) for i in range(data["vocab_size"])]
    tokenizer = modules.tokenizer.WhitespaceTokenizer(vocab, stop_words=set(), do_lower_case=False)
    weights = np.random.default_rng(0).normal(0, 0.1, (len(vocab), args.d_model)).astype(np.float32)
    model = SentenceTransformer(
        modules=[
            modules.WordEmbeddings(tokenizer, weights, update_embeddings=True, max_seq_length=64),
            modules.LSTM(args.d_model, args.d_model, num_layers=1, bidirectional=False),
            modules.Pooling(args.d_model, "mean"),
            modules.Normalize(),
        ],
        device="cpu",
    )
    n_steps = args.warmup + args.steps
    pairs = batches(data["q1"], data["q2"], args.batch_size, n_steps)
    dataset = Dataset.from_dict(
        {
            "anchor": [as_text(q) for a, _ in pairs for q in a],
            "positive": [as_text(q) for _, b in pairs for q in b],
        }
    )
    timer = StepTimes()
    with tempfile.TemporaryDirectory() as out:
        training_args = SentenceTransformerTrainingArguments(
            output_dir=out,
            per_device_train_batch_size=args.batch_size,
            max_steps=n_steps,
            learning_rate=5e-3,
            save_strategy="no",
            report_to="none",
            logging_steps=10**9,
            disable_tqdm=True,
            dataloader_drop_last=True,
            use_cpu=True,
        )
        trainer = SentenceTransformerTrainer(
            model=model,
            args=training_args,
            train_dataset=dataset,
            loss=losses.MultipleNegativesRankingLoss(model),
            callbacks=[timer],
        )
        trainer.train()
    timed = timer.times[args.warmup - 1 :]
    train_seconds = timed[-1] - timed[0]
    timed_steps = len(timed) - 1
    tokens = sum(len(q) for a, b in pairs[args.warmup :] for q in a + b)

    model.eval()
    texts = [as_text(q) for q in data["encode"]]
    model.encode(texts[:2048], batch_size=512)
    encode_seconds = best_seconds(lambda: model.encode(texts, batch_size=512))
    with torch.inference_mode():
        latency = median_ms(lambda text: model.encode([text]), texts[:500])
    report(
        {
            "name": f"sentence-transformers {sentence_transformers.__version__} (torch {torch.__version__})",
            "train_pairs_per_s": timed_steps * args.batch_size / train_seconds,
            "train_tokens_per_s": tokens * timed_steps / max(1, args.steps) / train_seconds,
            "encode_per_s": len(texts) / encode_seconds,
            "single_ms": latency,
        }
    )


if __name__ == "__main__":
    main()
