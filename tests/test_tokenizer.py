from tokenizers import Tokenizer as HFTokenizer
from tokenizers import normalizers
from tokenizers.models import WordLevel

from siamdup.tokenizer import PTB_ESCAPES, Tokenizer, ptb_detokenizer, with_ptb_detokenizer

TEXTS = [
    "What is a class in Python?",
    "How do I define a class?",
    "What's the U.S. $100 bill made of?",
    "Where are you from?",
    "Where are you going?",
] * 2  # seen twice, so every word passes min_frequency=2


def make() -> Tokenizer:
    return Tokenizer.train(TEXTS, min_frequency=2, max_length=8)


def test_tokenized_and_raw_forms_give_the_same_ids() -> None:
    tok = make()
    raw, tokenized = tok.tokenize(
        ["What's the U.S. $100 bill made of?", "What ' s the U . S . $ 100 bill made of ?"]
    )
    assert raw == tokenized
    assert tok.tokenize(["How do I define a class?"]) == tok.tokenize(["how do i define a class ?"])
    assert tok.tokenize(["WHAT IS A CLASS IN PYTHON?"]) == tok.tokenize(["what is a class in python ?"])


# The standard Quora partition's text beside the release's raw text it was tokenized from.
PTB_AND_RAW = [
    (
        "I ca n't solve -LSB- math -RSB- x ^ -LCB- 2 -RCB- -LSB- / math -RSB- -LRB- help -RRB- ?",
        "I can't solve [math]x^{2}[/math] (help)?",
    ),
    ("What does `` bar raiser '' mean ? I do n't know .", 'What does "bar raiser" mean? I don\'t know.'),
    ("Why wo n't ` it ' work ?", "Why won't 'it' work?"),
]


def test_penn_treebank_escapes_give_the_raw_texts_ids() -> None:
    tok = Tokenizer.train([raw for _, raw in PTB_AND_RAW], min_frequency=1)
    for ptb, raw in PTB_AND_RAW:
        assert tok.tokenize([ptb]) == tok.tokenize([raw]), ptb
        assert tok.unk_id not in tok.tokenize([ptb])[0]


def test_ptb_detokenizer_maps_each_escape_and_leaves_raw_text_alone() -> None:
    undo = ptb_detokenizer()
    for escaped, raw in PTB_ESCAPES:
        assert undo.normalize_str(f"a{escaped}b") == f"a{raw}b"
    assert undo.normalize_str("Don't say \"can't\" (or [this])!") == "Don't say \"can't\" (or [this])!"
    assert undo.normalize_str("I ca n't , you do n't") == "I can't , you don't"


def test_with_ptb_detokenizer_runs_before_the_tokenizers_own_normalizer() -> None:
    hf = HFTokenizer(WordLevel({"[PAD]": 0, "[UNK]": 1}, unk_token="[UNK]"))
    assert with_ptb_detokenizer(hf).normalizer.normalize_str("-LRB- x -RRB-") == "( x )"
    hf.normalizer = normalizers.Lowercase()
    assert with_ptb_detokenizer(hf).normalizer.normalize_str("Ca N'T -LRB- X -RRB-") == "can't ( x )"
    once = with_ptb_detokenizer(hf).to_str()
    assert with_ptb_detokenizer(hf).to_str() == once  # added once only


def test_unknown_words_map_to_unk_and_pad_is_zero() -> None:
    tok = make()
    assert (tok.pad_id, tok.unk_id) == (0, 1)
    ids = tok.tokenize(["Where are you zyzzyva?"])[0]
    assert ids[3] == tok.unk_id
    assert tok.unk_id not in tok.tokenize(["Where are you from?"])[0]


def test_truncation_padding_and_empty_text() -> None:
    tok = make()
    long = " ".join(["where"] * 20)
    ids = tok.tokenize([long, "", "from"])
    assert len(ids[0]) == 8
    assert ids[1] == [tok.unk_id]  # an empty question still has one position to encode
    batch, lengths = tok.pad(ids)
    assert batch.shape == (3, 8)
    assert lengths.tolist() == [8, 1, 1]
    assert batch[2, 1:].tolist() == [0] * 7


def test_min_frequency_and_vocab_size() -> None:
    tok = Tokenizer.train(["a a a b b c"], min_frequency=2)
    assert set(tok.hf.get_vocab()) == {"[PAD]", "[UNK]", "a", "b"}
    capped = Tokenizer.train(["a a a b b c c"], vocab_size=3, min_frequency=1)
    assert capped.vocab_size == 3  # the two specials and the most frequent word


def test_save_load_round_trip(tmp_path) -> None:
    tok = make()
    tok.save(tmp_path / "tokenizer.json")
    again = Tokenizer.load(tmp_path / "tokenizer.json", max_length=8)
    assert again.tokenize(TEXTS) == tok.tokenize(TEXTS)
    assert again.tokenize(["Where are you from -LRB- ? -RRB-"]) == tok.tokenize(["Where are you from (?)"])
