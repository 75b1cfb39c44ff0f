"""Training and encoding speed: siamdup against the course's Trax implementation and sentence-transformers.

    python -m benchmarks.speed.train_encode --data ../shared/data/qqp [--with-peers]

All three train the same network (d_model 128: Embedding -> one LSTM layer -> mean -> normalise) with batches
of 256 QQP duplicate pairs, on the same token ids (siamdup's tokenizer, fitted on the shared train file).
- siamdup: `siamdup.training.loop.train` with the `reference` recipe (the course's mined triplet loss), one whole
  epoch, so the figure includes everything a user's run does (batching, the progress bar);
- Trax 1.4.1: the course's notebook code (`benchmarks/peers/trax_siamese.py`);
- sentence-transformers: WordEmbeddings + LSTM + Pooling + Normalize with MultipleNegativesRankingLoss
  (`benchmarks/peers/st_siamese.py`).
`--with-peers` installs each peer into its own virtual environment under the cache folder (once) and runs
it there. Encoding is timed on the distinct dev questions in batches of 512 (the best of three passes) and
one question at a time (the median of 500), each on the same footing as its peer: siamdup from raw text
(its tokenizer included) against sentence-transformers, which gets the ids written as text and splits them
itself; siamdup's encoder alone from token ids against Trax, which gets the ids ready-made.

The FLOP estimate counts real tokens only: an LSTM layer costs 2·4·H·(E+H) per token and direction
forward, and training about three times that. It is set against the fp32 matrix-multiply peak measured
in the same run (best of several 2048 x 2048 products, all threads).
"""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
import venv
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

from benchmarks.machine import benchmark_parser, describe
from benchmarks.peers.common import best_seconds, median_ms, peak_rss_mb
from benchmarks.scale.corpus import DEFAULT_CACHE
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.recipes import recipe_config
from siamdup.tokenizer import Tokenizer
from siamdup.training.loop import train

ROOT = Path(__file__).resolve().parents[2]
PEERS = {
    # name: (module, pip requirements). torch is pinned first so sentence-transformers keeps the CPU build.
    "Trax": ("benchmarks.peers.trax_siamese", [["trax==1.4.1"]]),
    "sentence-transformers": (
        "benchmarks.peers.st_siamese",
        [["torch==2.13.0"], ["sentence-transformers[train]==6.2.0"]],
    ),
}


def matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):  # warm-up
        a @ b
    return 2 * n**3 / best_seconds(lambda: a @ b, repeats) / 1e9


def lstm_forward_flops_per_token(d_model: int, num_layers: int, bidirectional: bool) -> float:
    """2·4·H·(E+H) per direction and layer: the four gates' input and recurrent products."""
    directions = 2 if bidirectional else 1
    hidden = d_model // directions
    flops = 0.0
    for layer in range(num_layers):
        inputs = d_model if layer == 0 else hidden * directions
        flops += directions * 2 * 4 * hidden * (inputs + hidden)
    return flops


def write_ids(data: Path, out: Path, seed: int = 0) -> dict:
    """Token ids of the train duplicates (shuffled once) and of the distinct dev questions, for the peers."""
    pairs, _ = read_pairs(data / "train.tsv.gz")
    tokenizer = Tokenizer.train([q for p in pairs for q in (p.question1, p.question2)])
    dups = [p for p in pairs if p.label == 1]
    random.Random(seed).shuffle(dups)
    dev, _ = read_pairs(data / "dev.tsv")
    questions = list(dict.fromkeys(q for p in dev for q in (p.question1, p.question2)))
    ids = {
        "vocab_size": tokenizer.vocab_size,
        "q1": tokenizer.tokenize([p.question1 for p in dups]),
        "q2": tokenizer.tokenize([p.question2 for p in dups]),
        "encode": tokenizer.tokenize(questions),
    }
    out.write_text(json.dumps(ids))
    return {
        "questions": questions,
        "tokens_per_pair": np.mean([len(a) + len(b) for a, b in zip(ids["q1"], ids["q2"], strict=True)]),
        "encode_tokens": sum(map(len, ids["encode"])),
    }


def encode_speed(model: Siamese, questions: list[str]) -> dict:
    """Questions per second in batches of 512 (best of 3 passes) and median ms for one question: from raw text (what
    `Siamese.encode` does, tokenizer included) and from token ids (the encoder alone, as the Trax peer)."""
    model.encode(questions[:2048])
    text_per_s = len(questions) / best_seconds(lambda: model.encode(questions, batch_size=512))
    text_ms = median_ms(lambda q: model.encode([q]), questions[:500])

    ids = sorted(model.tokenizer.tokenize(questions), key=len)
    batches = [model.tokenizer.pad(ids[i : i + 512]) for i in range(0, len(ids), 512)]
    singles = [model.tokenizer.pad([x]) for x in ids[:500]]
    with torch.inference_mode():
        model.encoder.eval()
        ids_per_s = len(ids) / best_seconds(lambda: [model.encoder(*batch) for batch in batches])
        ids_ms = median_ms(lambda batch: model.encoder(*batch), singles)
    return {
        "encode_per_s": text_per_s,
        "single_ms": text_ms,
        "encode_ids_per_s": ids_per_s,
        "single_ids_ms": ids_ms,
    }


def siamdup_run(data: Path, questions: list[str], console: Console) -> dict:
    config = recipe_config("reference")
    config.epochs = 1
    with tempfile.TemporaryDirectory() as out:
        metrics = train(data / "train.tsv.gz", data / "dev.tsv", out, config, console=console)
        model = Siamese.load(out)
    return {
        "name": f"siamdup (torch {torch.__version__})",
        "train_pairs_per_s": metrics["train"]["pairs_per_s"],
        **encode_speed(model, questions),
        "peak_rss_mb": peak_rss_mb(),
    }


def peer_python(name: str, cache: Path, console: Console) -> Path:
    """The peer's virtual environment, created and filled on first use."""
    env = cache / "peers" / name.lower()
    python = env / "bin" / "python"
    marker = env / ".installed"
    if not marker.exists():
        console.print(f"installing {name} into {env} (once; several minutes)")
        venv.create(env, with_pip=True, clear=True)
        for requirements in PEERS[name][1]:
            subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
        marker.touch()
    return python


def peer_run(name: str, ids: Path, cache: Path, steps: int, console: Console) -> dict:
    python = peer_python(name, cache, console)
    console.print(f"running {name}")
    done = subprocess.run(
        [str(python), "-m", PEERS[name][0], str(ids.resolve()), "--steps", str(steps)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        console.print(done.stderr[-3000:])
        raise SystemExit(f"{name} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--with-peers", action="store_true", help="also run Trax and sentence-transformers")
    parser.add_argument("--peer-steps", type=int, default=60, help="timed training steps for each peer")
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="where the peers' environments live"
    )
    args = parser.parse_args()
    console = Console(stderr=True)
    args.cache.mkdir(parents=True, exist_ok=True)

    peak = matmul_peak_gflops()
    ids_path = args.cache / "speed-ids.json"
    facts = write_ids(args.data, ids_path)
    rows = [siamdup_run(args.data, facts["questions"], console)]
    default_model = Siamese.load()
    shipped = encode_speed(default_model, facts["questions"])
    c = default_model.encoder.config
    shipped_name = f"{c.num_layers}-layer {'Bi' if c.bidirectional else ''}LSTM, {c.d_model} outputs"
    if args.with_peers:
        rows += [peer_run(name, ids_path, args.cache, args.peer_steps, console) for name in PEERS]

    ours = rows[0]
    fwd = lstm_forward_flops_per_token(128, 1, False)
    train_gflops = ours["train_pairs_per_s"] * facts["tokens_per_pair"] * 3 * fwd / 1e9
    encode_gflops = ours["encode_per_s"] * facts["encode_tokens"] / len(facts["questions"]) * fwd / 1e9
    print(f"machine: {describe()}")
    print(f"fp32 matmul peak (2048 x 2048, measured now): {peak:,.0f} GFLOP/s")
    print("network: Embedding(128) -> LSTM(128) -> mean -> normalise; batches of 256 duplicate pairs\n")
    print(
        "| implementation | train pairs/s | encode q/s, from text | encode q/s, from ids "
        "| one question, from text | from ids | peak RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")

    def cell(r: dict, key: str, fmt: str, unit: str = "") -> str:
        return format(r[key], fmt) + unit if key in r else "—"

    for r in rows:
        print(
            f"| {r['name']} | {r['train_pairs_per_s']:,.0f} | {cell(r, 'encode_per_s', ',.0f')} | "
            f"{cell(r, 'encode_ids_per_s', ',.0f')} | {cell(r, 'single_ms', '.2f', ' ms')} | "
            f"{cell(r, 'single_ids_ms', '.2f', ' ms')} | {r['peak_rss_mb']:,.0f} MB |"
        )
    for r in rows[1:]:
        # Encoding is compared on the same footing: text with text, token ids with token ids.
        kind = "encode_per_s" if "encode_per_s" in r else "encode_ids_per_s"
        one = "single_ms" if "single_ms" in r else "single_ids_ms"
        print(
            f"siamdup / {r['name'].split(' (')[0]}: training "
            f"{ours['train_pairs_per_s'] / r['train_pairs_per_s']:.1f}x, encoding "
            f"{ours[kind] / r[kind]:.1f}x, one question {r[one] / ours[one]:.1f}x as fast "
            f"({'from text' if kind == 'encode_per_s' else 'from token ids'})"
        )
    print(
        f"\nsiamdup training: {facts['tokens_per_pair']:.1f} real tokens per pair, {fwd * 3 / 1e3:.0f} kFLOP per token "
        f"-> {train_gflops:.1f} GFLOP/s = {100 * train_gflops / peak:.0f}% of the matmul peak"
    )
    print(
        f"siamdup encoding: {encode_gflops:.1f} GFLOP/s = {100 * encode_gflops / peak:.0f}% of the matmul peak"
    )
    print(
        f"shipped default model ({shipped_name}): {shipped['encode_per_s']:,.0f} questions/s from text in "
        f"batches of 512, {shipped['single_ms']:.2f} ms for one question "
        f"({shipped['encode_ids_per_s']:,.0f}/s and {shipped['single_ids_ms']:.2f} ms from token ids)"
    )


if __name__ == "__main__":
    main()
