"""Damaged files, black-box: each stored file of a model and of an index is corrupted in place (bytes
flipped, two lines or blocks swapped: same size), truncated, or deleted, and the CLI is run on it.

Each case must be refused with a non-zero exit and a message naming the file, or give exactly the
answer of the healthy directory. A journal cut short or deleted loses what it held without a trace (the
saved index is intact, as after an earlier crash), so for those two cases a correct but incomplete answer
is accepted. Anything else that exits 0 with another answer is a silent wrong answer.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from benchmarks.reliability.faults.materials import make_index, question, small_model, write_pairs
from benchmarks.reliability.faults.processes import TRACEBACK, Cli, Tally, in_process_cli

MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")
INDEX_FILES = ("manifest.json", "vectors.faiss", "entries.jsonl", "journal.jsonl")
DAMAGES = ("flip", "swap", "truncate", "delete")
SAVED, JOURNALLED = [f"s{i}" for i in range(16)], [f"j{i}" for i in range(6)]
BLOCK = 64  # bytes swapped in a binary file


def damage(path: Path, how: str, rng: random.Random) -> None:
    """Corrupt one file in place, reproducibly for a given `rng`."""
    if how == "delete":
        path.unlink()
        return
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
        return
    if how == "flip":
        for position in rng.sample(range(len(data) // 2, len(data)), 4):
            data[position] ^= 0x01  # the subtlest change: a digit or a letter becomes its neighbour
    elif path.suffix in (".json", ".jsonl"):
        lines = bytes(data).splitlines(keepends=True)
        i, j = rng.sample([n for n in range(len(lines)) if lines[n].strip()], 2)
        while lines[i].rstrip(b",\n") == lines[j].rstrip(b",\n"):
            i, j = rng.sample(range(len(lines)), 2)
        lines[i], lines[j] = lines[j], lines[i]
        data = bytearray(b"".join(lines))
    else:
        i, j = sorted(rng.sample(range(len(data) // (2 * BLOCK), len(data) // BLOCK), 2))
        a, b = data[i * BLOCK : (i + 1) * BLOCK], data[j * BLOCK : (j + 1) * BLOCK]
        data[i * BLOCK : (i + 1) * BLOCK], data[j * BLOCK : (j + 1) * BLOCK] = b, a
    path.write_bytes(bytes(data))


def _model_answer(cli: Cli, model_dir: Path, pairs: Path, out: Path) -> tuple[int, str, object]:
    code, _, output = cli(["predict", "--model", str(model_dir), "--pairs", str(pairs), "--out", str(out)])
    if code != 0:
        return code, output, None
    from siamdup import Siamese

    try:
        identity = Siamese.load(model_dir).fingerprint()
    except Exception as e:  # the CLI used a directory the API refuses: not the saved model either way
        identity = f"unloadable: {e}"
    return code, output, (out.read_text(), identity)


def _index_answer(cli: Cli, index_dir: Path) -> tuple[int, str, object]:
    texts = [question(q) for q in SAVED + JOURNALLED]
    code, stdout, output = cli(
        ["index", "query", "--index", str(index_dir), "--json", "-k", str(len(texts)), *texts]
    )
    if code != 0:
        return code, output, None
    try:
        answer = [
            [(m["id"], m["text"], round(m["similarity"], 4)) for m in json.loads(line)["matches"]]
            for line in stdout.splitlines()
        ]
    except (ValueError, KeyError, TypeError):
        answer = stdout  # not even our JSON: certainly not the healthy answer
    return code, output, answer


def _incomplete_but_true(answer: object, healthy: list) -> bool:
    """Every match returned is one the healthy index returns for that query, with its similarity."""
    if not isinstance(answer, list) or len(answer) != len(healthy):
        return False
    return all(set(got) <= set(want) for got, want in zip(answer, healthy, strict=True))


def corruption_cases(
    workdir: Path, cli: Cli = in_process_cli, seed: int = 0, only: set[str] | None = None
) -> Tally:
    """Every (file, damage) case of a model and an index directory, or those named in `only` (e.g.
    "index entries.jsonl flip"); see the module docstring."""
    tally, rng = Tally("corrupted files"), random.Random(seed)
    pairs = write_pairs(workdir / "pairs.tsv", 1)
    from siamdup import Siamese

    model_source = small_model().save(workdir / "healthy-model")
    index_source = make_index(workdir / "healthy-index", SAVED, JOURNALLED, Siamese.load(model_source))
    cases = [("model", name, how) for name in MODEL_FILES for how in DAMAGES]
    cases += [("index", name, how) for name in INDEX_FILES for how in DAMAGES]
    healthy = {
        "model": _model_answer(cli, model_source, pairs, workdir / "healthy.csv")[2],
        "index": _index_answer(cli, index_source)[2],
    }
    for n, (kind, name, how) in enumerate(cases):
        case_rng = random.Random(rng.random())  # each case damages the same bytes whichever cases run
        if only is not None and f"{kind} {name} {how}" not in only:
            continue
        target = workdir / f"case{n}-{kind}"
        shutil.copytree(model_source if kind == "model" else index_source, target)
        damage(target / name, how, case_rng)
        if kind == "model":
            code, output, answer = _model_answer(cli, target, pairs, workdir / f"case{n}.csv")
        else:
            code, output, answer = _index_answer(cli, target)
        _judge(tally, f"{kind} {name} {how}", name, code, output, answer, healthy[kind])
        shutil.rmtree(target, ignore_errors=True)
    return tally


def _judge(
    tally: Tally, case: str, name: str, code: int, output: str, answer: object, healthy: object
) -> None:
    tally.corruption_cases += 1
    if TRACEBACK in output:
        tally.tracebacks += 1
        tally.problem(f"{case}: traceback: {output.strip().splitlines()[-1][:300]}")
    elif code != 0:
        if name in output:
            tally.refused_by_name += 1
        else:
            tally.problem(f"{case}: refused without naming {name}: {output.strip()[-300:]}")
    elif answer != healthy:
        lossy_journal = name == "journal.jsonl" and case.endswith(("truncate", "delete"))
        if not (lossy_journal and _incomplete_but_true(answer, healthy)):
            tally.wrong_answers += 1
            tally.problem(f"{case}: exit 0 with an answer other than the healthy directory's")
