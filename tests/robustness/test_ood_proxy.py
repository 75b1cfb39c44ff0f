"""The out-of-domain proxy: its light edits, its word swap and the pairs it builds."""

import random

from siamdup.robustness import build_proxy_pairs, proxy

SENTENCES = [
    "Remove the files and directories from the cache.",
    "Show the version of the compiler and exit.",
    "Print a summary of the packets read from a socket.",
    "Create a new archive from the given files.",
    "Display the contents of the configuration file.",
    "Start the daemon in the background at boot.",
    "Reads the manual page of a command.",
    "Short.",  # too short for the pool
    "Write the log to standard error instead of a file.",
    "Delete the temporary directory after the build.",
    "Convert images between many graphics formats quickly.",
]


def words(text: str) -> list[str]:
    return text.split()


def test_each_light_edit_on_hand_checked_sentences() -> None:
    tokens = words("Remove the files and directories from the cache")
    assert proxy.drop_article(tokens, random.Random(0)) in (
        words("Remove files and directories from the cache"),
        words("Remove the files and directories from cache"),
    )
    assert proxy.swap_conjuncts(tokens, random.Random(0)) == words(
        "Remove the directories and files from the cache"
    )
    assert proxy.use_synonym(words("show the version"), random.Random(0)) == words("display the version")
    assert proxy.drop_article(words("A tool for tests"), random.Random(0)) is None  # first word kept
    assert proxy.swap_conjuncts(words("Read and write"), random.Random(0)) is None  # first word kept


def test_light_edit_applies_one_or_two_edits_and_drops_the_period() -> None:
    for seed in range(10):
        edited = proxy.light_edit("Remove the files and directories from the cache.", random.Random(seed))
        assert edited is not None and not edited.endswith(".")
        assert edited != "Remove the files and directories from the cache"
        assert set(edited.split()) <= {
            "Remove",
            "the",
            "files",
            "and",
            "directories",
            "from",
            "cache",
            "delete",
        }
    assert proxy.light_edit("Reads manual pages of commands.", random.Random(0)) is None
    assert proxy.use_synonym(words("Show the version"), random.Random(0)) is None  # case must match


def test_word_swap_changes_exactly_one_content_word() -> None:
    for seed in range(10):
        swapped = proxy.swap_content_word(
            "Print a summary of the packets", "Reads cached objects", random.Random(seed), common={"cached"}
        )
        assert swapped is not None
        before, after = words("Print a summary of the packets"), swapped.split()
        changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert len(changed) == 1 and changed[0][0] in ("summary", "packets") and changed[0][1] == "objects"
    assert (
        proxy.swap_content_word("Print a summary", "Reads cached", random.Random(0), common={"cached"})
        is None
    )


def test_proxy_pairs_are_labelled_by_kind_and_seeded() -> None:
    pairs = build_proxy_pairs(SENTENCES, anchors=4, seed=1)
    assert pairs == build_proxy_pairs(SENTENCES, anchors=4, seed=1)
    anchors = {p.anchor for p in pairs}
    assert len(anchors) == 4 and "Short." not in anchors
    for anchor in anchors:
        kinds = {p.kind: p for p in pairs if p.anchor == anchor}
        assert kinds["edited"].label == 1 and kinds["random"].label == 0
        assert kinds["random"].other in SENTENCES and kinds["random"].other != anchor
        if "neighbour" in kinds:
            assert kinds["neighbour"].other in SENTENCES and kinds["neighbour"].other != anchor
            assert set(kinds["neighbour"].other.lower().split()) & set(anchor.lower().split())
    assert {p.kind for p in pairs} >= {"edited", "word-swapped", "neighbour", "random"}
    assert all(p.label == (p.kind == "edited") for p in pairs)
