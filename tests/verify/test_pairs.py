from siamdup.data.readers import Pair
from siamdup.pretrained import minilm_tokenizer
from siamdup.verify.pairs import both_orders, epoch_batches, without_leaks

DEV = [
    Pair("How old are you?", "What is your age?", 1),
    Pair("Where are you from?", "Where are you going?", 0),
]


def test_pairs_that_ask_what_a_dev_pair_asks_are_dropped() -> None:
    train = [
        Pair("What is your age?", "How old are you?", 1),  # the dev pair, reversed
        Pair("How old are you ?", "What's your age?", 1),  # its duplicate cluster, other words
        Pair("What's your age?", "What is your age?", 1),  # links "What's your age?" to the dev cluster
        Pair("where are you going?", "WHERE are you from", 0),  # the dev non-duplicate, other case
        Pair("How old are you?", "Where are you going?", 0),  # two dev questions, but no dev pair
        Pair("How do I learn Python?", "How can I learn Python?", 1),
    ]
    kept, dropped = without_leaks(train, DEV)
    assert kept == train[4:] and dropped == 4


def test_every_pair_is_learnt_in_both_orders() -> None:
    tokenizer = minilm_tokenizer(8)
    examples = both_orders([Pair("a b", "c", 1), Pair("d", "e f", 0)], tokenizer)
    pairs = {
        (tuple(a), tuple(b), y)
        for a, b, y in zip(examples.first, examples.second, examples.labels, strict=False)
    }
    assert len(examples) == 4 and examples.n_duplicates == 2
    assert all((b, a, y) in pairs for a, b, y in pairs)


def test_epoch_batches_cover_every_example_once_and_repeat_with_the_seed() -> None:
    tokenizer = minilm_tokenizer(8)
    words = ["a", "a b", "a b c", "a b c d"]
    examples = both_orders([Pair(words[i % 4], words[(i * 7) % 4], i % 2) for i in range(300)], tokenizer)
    batches = epoch_batches(examples, 16, seed=3, epoch=1)
    assert sorted(i for b in batches for i in b) == list(range(len(examples)))
    assert all(len(b) <= 16 for b in batches)
    assert (
        batches
        == epoch_batches(examples, 16, seed=3, epoch=1)
        != epoch_batches(examples, 16, seed=3, epoch=2)
    )
