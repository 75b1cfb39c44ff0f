from siamdup.data.clusters import Clusters, normalise
from siamdup.data.readers import Pair


def test_normalise_joins_raw_and_tokenized_forms() -> None:
    assert normalise("What's a class?") == normalise("what ' s a class ?") == "what s a class"


def test_transitive_closure_by_text_and_qid() -> None:
    pairs = [
        Pair("A?", "B?", 1),
        Pair("b ?", "C", 1),  # same text as "B?" after normalising
        Pair("D", "E", 1, qid1="7", qid2="8"),
        Pair("F", "G", 1, qid1="8", qid2="9"),  # qid 8 links it to D/E though the text differs
        Pair("A?", "D", 0),  # a non-duplicate joins nothing
        Pair("H", "I", 0),
    ]
    c = Clusters(pairs)
    assert c.of("A?") == c.of("B?") == c.of("C")
    assert c.of("D") == c.of("E") == c.of("F") == c.of("G")
    assert c.of("A?") != c.of("D")
    assert c.of("H") != c.of("I")
    assert c.of("never seen") == -1
    assert len(c) == 4  # {A,B,C}, {D,E,F,G}, {H}, {I}
