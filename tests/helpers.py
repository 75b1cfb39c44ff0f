"""Helpers the tests import by name (`from helpers import ...`): tests/ is on pytest's path, and a
plain module avoids the ambiguity of importing from one of several conftest.py files."""

from pathlib import Path

# tests/helpers.py -> parents[1] is the repo root; the shared data lives beside it in ../shared.
DEFAULT_QQP_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "qqp"

TOPICS = [
    "python",
    "guitar",
    "chess",
    "french",
    "calculus",
    "yoga",
    "photography",
    "cooking",
    "swimming",
    "painting",
    "poetry",
    "investing",
    "running",
    "chemistry",
    "piano",
    "skiing",
    "baking",
    "sewing",
    "knitting",
    "drawing",
]

FORMS = [
    ["how do i learn {}?", "what is the best way to learn {}?", "how can i get good at {}?"],
    ["is {} hard?", "how difficult is {}?", "is it hard to pick up {}?"],
    ["why do people like {}?", "what makes {} so popular?", "why is {} so loved?"],
]


def synthetic_pairs(seed: int, n_negatives: int) -> list[tuple[int, str, str]]:
    """(label, q1, q2): duplicates are two forms of one template on one topic; non-duplicates differ in topic."""
    import itertools
    import random

    rng = random.Random(seed)
    pairs = [
        (1, a.format(t), b.format(t))
        for t in TOPICS
        for forms in FORMS
        for a, b in itertools.combinations(forms, 2)
    ]
    for _ in range(n_negatives):
        forms = rng.choice(FORMS)
        t1, t2 = rng.sample(TOPICS, 2)
        pairs.append((0, rng.choice(forms).format(t1), rng.choice(forms).format(t2)))
    rng.shuffle(pairs)
    return pairs


def write_partition_tsv(path: Path, pairs: list[tuple[int, str, str]]) -> Path:
    path.write_text("".join(f"{label}\t{q1}\t{q2}\t{i}\n" for i, (label, q1, q2) in enumerate(pairs)))
    return path


def tiny_config(**overrides):
    from siamdup.training.settings import TrainConfig

    settings = dict(
        d_model=32, epochs=6, batch_size=16, lr=1e-2, warmup_steps=5, min_frequency=1, patience=10
    )
    return TrainConfig(**{**settings, **overrides})


FORUM_QUESTIONS = {
    "py": "What is the best way to learn Python?",
    "rice": "How do I cook rice?",
    "flights": "Where can I buy cheap flights?",
    "weight": "How can I lose weight fast?",
    "paris": "What is the capital of France?",
    "guitar": "How long does it take to learn guitar?",
    "sleep": "Why can't I sleep at night?",
    "job": "How do I prepare for a job interview?",
}
