"""The contrast set's one-word edits, on hand-checked questions, and the set built from them."""

import random

import pytest

from siamdup.robustness import build_contrast_set, rules


def edit(function, text: str, seed: int = 0, **kwargs) -> str | None:
    out = function(text.split(), random.Random(seed), **kwargs)
    return None if out is None else " ".join(out)


@pytest.mark.parametrize("seed", range(12))
def test_wh_word_swaps_the_leading_wh_word_for_another_question(seed: int) -> None:
    out = edit(rules.swap_wh_word, "How do I learn Python ?", seed)
    assert out in ("Why do I learn Python ?", "When do I learn Python ?")
    assert edit(rules.swap_wh_word, "why can they vote ?", seed) in (
        "how can they vote ?",
        "when can they vote ?",
        "where can they vote ?",
    )


@pytest.mark.parametrize(
    "text",
    ["What do I need for a visa ?", "How is Python used ?", "Is Python slow ?", "How much does it cost ?"],
)
def test_wh_word_leaves_questions_without_the_pattern(text: str) -> None:
    assert edit(rules.swap_wh_word, text) is None


def test_number_change_moves_years_and_counts_and_words() -> None:
    for seed in range(20):
        year = edit(rules.change_number, "Who won the election in 2016 ?", seed)
        assert year is not None and year.startswith("Who won the election in ")
        assert 2011 <= int(year.split()[-2]) <= 2021 and year.split()[-2] != "2016"
        count = edit(rules.change_number, "Is an iPhone 7 worth it ?", seed)
        assert count is not None and 8 <= int(count.split()[3]) <= 16
        word = edit(rules.change_number, "What are the top ten films ?", seed)
        assert word is not None and word.split()[4] in rules.NUMBER_WORDS and word.split()[4] != "ten"
    assert edit(rules.change_number, "Which film won?", 0) is None
    assert edit(rules.change_number, "Is it 2016?", 0) not in (None, "Is it 2016?")  # punctuation kept
    assert edit(rules.change_number, "Is it 2016?", 0).endswith("?")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Why do n't cats like water ?", "Why do cats like water ?"),
        ("Why ca n't I sleep at night ?", "Why can I sleep at night ?"),
        ("Why won't my car start?", "Why will my car start?"),
        ("Why is the sea not frozen ?", "Why is the sea frozen ?"),
        ("How can I lose weight ?", "How can I not lose weight ?"),
        ("Why do people hate traffic ?", "Why do people not hate traffic ?"),
        ("Is n't it late ?", None),  # a yes/no question keeps its sense when negated
        ("How to learn Java ?", None),
        ("What is the capital of Peru ?", None),
    ],
)
def test_negation_is_removed_or_inserted_in_wh_questions(text: str, expected: str | None) -> None:
    assert edit(rules.flip_negation, text) == expected


QUESTIONS = [
    "Where should I live in India ?",
    "What is the weather like in India ?",
    "Is tea cheap in India ?",
    "Where should I live in Canada ?",
    "What is the weather like in Canada ?",
    "Is tea cheap in Canada ?",
    "Where should I live in Peru ?",
    "Is tea cheap in Peru ?",
    "Is coffee cheap in Japan ?",
    "What is the plot of Game of Thrones ?",
]


def test_entity_slots_keep_names_seen_often_after_the_same_word() -> None:
    slots = rules.entity_slots([q.split() for q in QUESTIONS])
    assert slots == {"in": ["Canada", "India"]}  # Peru twice, Japan once: not names enough


def test_entity_swap_puts_another_name_of_the_same_slot() -> None:
    slots = rules.entity_slots([q.split() for q in QUESTIONS])
    for seed in range(5):
        assert (
            edit(rules.swap_entity, "Is rice cheap in India ?", seed, slots=slots)
            == "Is rice cheap in Canada ?"
        )
    assert edit(rules.swap_entity, "Is rice cheap in Peru ?", 0, slots=slots) is None
    assert edit(rules.swap_entity, "Who lives in India and Canada ?", 0, slots=slots) is None  # nothing new
    assert edit(rules.swap_entity, "India is big in Asia", 0, slots=slots) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How do I send money from India to Canada ?", "How do I send money from Canada to India ?"),
        ("Can I fly from Lima to Quito in a day ?", "Can I fly from Quito to Lima in a day ?"),
        ("How do I get from home to work ?", None),  # "from head to toe": ranges are left alone
        ("Is Python better than Java ?", "Is Java better than Python ?"),
        ("Are dogs smarter than cats ?", "Are cats smarter than dogs ?"),
        ("Is Rust more popular than Go ?", "Is Go more popular than Rust ?"),
        ("Can I run faster than light ?", None),
    ],
)
def test_word_order_swaps_directed_and_compared_terms(text: str, expected: str | None) -> None:
    assert edit(rules.reorder_words, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Python vs Java : which is better ?", "Java vs Python : which is better ?"),
        ("Which is safer , trains versus planes ?", "Which is safer , planes versus trains ?"),
        (
            "What is the difference between speed and velocity ?",
            "What is the difference between velocity and speed ?",
        ),
        ("What is the best way to learn ?", None),
    ],
)
def test_order_control_swaps_symmetric_terms(text: str, expected: str | None) -> None:
    assert edit(rules.swap_symmetric, text) == expected


def test_contrast_set_labels_kinds_and_seeded_sampling() -> None:
    questions = [
        *QUESTIONS,
        "How do I learn to swim ?",
        "Why do birds sing at dawn ?",
        "How can I save money in 2017 ?",
        "Is Python better than Java ?",
        "What is the difference between rain and snow ?",
    ]
    pairs = build_contrast_set(questions + questions[:3], seed=3)  # repeated texts count once
    kinds = {p.kind for p in pairs}
    assert kinds == {"wh-word", "number", "negation", "entity", "word-order", "order-control"}
    assert all(p.label == (1 if p.kind == "order-control" else 0) for p in pairs)
    assert all(p.original != p.changed and p.original in questions for p in pairs)
    assert len({(p.kind, p.original) for p in pairs}) == len(pairs)
    assert pairs == build_contrast_set(questions, seed=3)
    wh = [p for p in pairs if p.kind == "wh-word"]
    assert {p.original for p in wh} == {
        "Where should I live in India ?",
        "Where should I live in Canada ?",
        "Where should I live in Peru ?",
        "How do I learn to swim ?",
        "Why do birds sing at dawn ?",
        "How can I save money in 2017 ?",
    }
    capped = build_contrast_set(questions, seed=3, per_kind=1)
    assert sum(p.kind == "wh-word" for p in capped) == 1
    assert next(p for p in capped if p.kind == "wh-word") in wh
    # A question's edit depends on the seed and its text alone, not on the other questions.
    alone = build_contrast_set(["How do I learn to swim ?"], seed=3)
    assert alone[0] == next(p for p in wh if p.original == "How do I learn to swim ?")
