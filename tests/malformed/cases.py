"""The malformed-input corpus: plausible mistakes with files and options, one case each, for every command.

Each case names its command line (``{d}`` stands for the case's own folder) and the files it makes
there. A case passes when the command prints no traceback and either exits non-zero with a message
holding ``expect`` (the message names the problem), or, for ``ok`` cases, succeeds and reports the
rows it skipped. Inputs of a refused command must come out unchanged, and paths in ``absent`` must
not have been created. The test suite and ``python -m benchmarks.reliability.malformed_inputs`` both
run this list through :func:`run_case`.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from siamdup.model.siamese import default_model_path

SHIPPED = str(default_model_path())
MAX_OUTPUT_CHARS = 4000  # a refusal is a few lines; more means file content leaked into the message
TRACEBACK = "Traceback (most recent call last)"

QUESTIONS = "text\nHow do I learn Python?\nWhat is the capital of France?\n"
PAIRS = (
    "question1,question2,is_duplicate\n"
    "How old are you?,What is your age?,1\n"
    "How do I cook rice?,Where is Paris?,0\n"
)
BINARY = bytes(range(256)) * 64 + b"\nnot\nreally\ntext\n" * 20  # NUL bytes, then a few text-like lines
NOT_UTF8 = b"text\n" + "\n".join("Ça coûte très cher à Zürich éèêë" for _ in range(50)).encode("latin-1")
HUGE_LINE = "x" * 10_000_000  # a 10 MB single-line file


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    files: dict[str, str | bytes | None] = field(default_factory=dict)  # None: an empty folder
    expect: str = ""  # text the output must hold (case-insensitive)
    ok: bool = False  # the command succeeds, reporting what it skipped
    setup: Callable[[Path], None] | None = None
    absent: tuple[str, ...] = ()  # paths that must not exist afterwards
    skip: Callable[[], str] | None = None  # why the case cannot run here ("" when it can)
    known: str = ""  # a known failure, fixed elsewhere: why (the test marks it xfail)


@dataclass
class Outcome:
    case: Case
    exit_code: int | None = None
    output: str = ""
    traceback: bool = False
    skipped: str = ""  # why the case was not run
    problems: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """The line that says what went wrong (else the last line), shortened for a table."""
        lines = [line.strip("│╭╮╰╯─ ") for line in self.output.splitlines()]
        lines = [line for line in lines if line]
        marks = ("error:", "invalid value", "missing option", "no such option", "got unexpected")
        if self.case.ok:
            marks = ("skipped",)
        line = next(
            (x for x in lines if x.lower().startswith(marks) or marks[0] in x), lines[-1] if lines else ""
        )
        return line if len(line) <= 110 else line[:109] + "…"


def _case(name: str, *args: str, **kwargs) -> Case:
    return Case(name, tuple(args), **kwargs)


def _when_root() -> str:
    return "run as root: permission bits do not apply" if os.geteuid() == 0 else ""


def _without_proc() -> str:
    return "" if Path("/proc/self").is_dir() else "no /proc here"


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda d: os.mkfifo(d / name)


def _symlink(target: str, link: str) -> Callable[[Path], None]:
    return lambda d: os.symlink(d / target, d / link)


def _hardlink(target: str, link: str) -> Callable[[Path], None]:
    return lambda d: os.link(d / target, d / link)


def _read_only(folder: str) -> Callable[[Path], None]:
    return lambda d: (d / folder).chmod(stat.S_IRUSR | stat.S_IXUSR)


def _unreadable(file: str) -> Callable[[Path], None]:
    return lambda d: (d / file).chmod(0)


def _copy_shipped(folder: str) -> Callable[[Path], None]:
    return lambda d: shutil.copytree(SHIPPED, d / folder)


def _build_index(folder: str) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        (d / "_seed.txt").write_text("How do I learn Python?\nWhat is the capital of France?\n")
        result = invoke(["index", "build", "--input", str(d / "_seed.txt"), "--out", str(d / folder)])
        assert result[0] == 0, result[1]

    return build


def _truncated_gzip() -> bytes:
    return gzip.compress((PAIRS * 2000).encode())[:300]


Q = {"q.csv": QUESTIONS}
P = {"pairs.csv": PAIRS}

# One case a line, so that the list reads as a table.
# fmt: off
CASES: list[Case] = [
    # -- predict ----------------------------------------------------------------------------------
    _case("predict: --out is the --pairs file", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/pairs.csv", files=P, expect="same file"),
    _case("predict: --out is a symlink to --pairs", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/link.csv", files=P, setup=_symlink("pairs.csv", "link.csv"), expect="same file"),
    _case("predict: --out in a missing folder", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/nope/deeper/x.csv", files=P, expect="does not exist", absent=("nope",)),
    _case("predict: --out is a folder", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}", files=P, expect="is a folder"),
    _case("predict: --out under a file", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/pairs.csv/x.csv", files=P, expect="is a file, not a folder"),
    _case("predict: --out in a read-only folder", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/ro/x.csv", files={**P, "ro": None}, setup=_read_only("ro"), expect="permission denied", skip=_when_root),
    _case("predict: --out is a named pipe", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/fifo.csv", files=P, setup=_fifo("fifo.csv"), expect="not a regular file"),
    _case("predict: --out where writing fails", "predict", "--pairs", "{d}/pairs.csv", "--out", "/proc/siamdup-scores.csv", files=P, skip=_without_proc, expect="cannot write"),
    _case("predict: --threshold nan", "predict", "--threshold", "nan", "How old are you?", "What is your age?", expect="between -1 and 1"),
    _case("predict: --threshold 70 (a percentage)", "predict", "--threshold", "70", "a?", "b?", expect="between -1 and 1"),
    _case("predict: --threshold not a number", "predict", "--threshold", "high", "a?", "b?", expect="--threshold"),
    _case("predict: one question", "predict", "How old are you?", expect="exactly two questions"),
    _case("predict: an empty question", "predict", "How old are you?", "  ", expect="a question is empty"),
    _case("predict: questions and --pairs", "predict", "a?", "b?", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files=P, expect="not both"),
    _case("predict: --pairs without --out", "predict", "--pairs", "{d}/pairs.csv", files=P, expect="needs --out"),
    _case("predict: --pairs missing", "predict", "--pairs", "{d}/nope.csv", "--out", "{d}/o.csv", expect="file not found"),
    _case("predict: --pairs is a folder", "predict", "--pairs", "{d}/sub", "--out", "{d}/o.csv", files={"sub": None}, expect="not a regular file"),
    _case("predict: --pairs binary garbage", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": BINARY}, expect="binary data", absent=("o.csv",)),
    _case("predict: --pairs empty file", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": ""}, expect="empty file"),
    _case("predict: --pairs header only", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": "question1,question2\n"}, expect="no usable question pair"),
    _case("predict: --pairs missing columns", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": "a,b\nx,y\n"}, expect="missing column 'question1'"),
    _case("predict: --pairs separated by semicolons", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": "question1;question2\nx?;y?\n"}, expect="separated by semicolons"),
    _case("predict: --pairs one 10 MB line", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": HUGE_LINE}, expect="missing column"),
    _case("predict: --pairs .gz that is not gzip", "predict", "--pairs", "{d}/pairs.csv.gz", "--out", "{d}/o.csv", files={"pairs.csv.gz": PAIRS}, expect="not a gzip file"),
    _case("predict: --pairs truncated .gz", "predict", "--pairs", "{d}/pairs.csv.gz", "--out", "{d}/o.csv", files={"pairs.csv.gz": _truncated_gzip()}, expect="damaged gzip"),
    _case("predict: --pairs UTF-16", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": PAIRS.encode("utf-16")}, expect="UTF-16"),
    _case("predict: --pairs Latin-1", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": NOT_UTF8}, expect="not UTF-8"),
    _case("predict: --pairs unreadable", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files=P, setup=_unreadable("pairs.csv"), expect="permission denied", skip=_when_root),
    _case("predict: --pairs CRLF with a BOM", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": "\ufeff" + PAIRS.replace("\n", "\r\n")}, ok=True, expect="2 pairs kept, 0 skipped"),
    _case("predict: --pairs with an invalid UTF-8 row", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": PAIRS.encode() + b"caf\xe9?,tea?,1\n"}, ok=True, expect="1 undecodable"),
    _case("predict: --pairs with a 20,000-character question", "predict", "--pairs", "{d}/pairs.csv", "--out", "{d}/o.csv", files={"pairs.csv": PAIRS + "y" * 20_000 + ",short?,0\n"}, ok=True, expect="1 too long"),
    _case("predict: --model is a file", "predict", "--model", "{d}/q.csv", "a?", "b?", files=Q, expect="no model directory"),
    _case("predict: --model missing", "predict", "--model", "{d}/nope", "a?", "b?", expect="no model directory"),
    # -- evaluate ---------------------------------------------------------------------------------
    _case("evaluate: --data missing", "evaluate", "--model", SHIPPED, "--data", "{d}/nope.tsv", expect="file not found"),
    _case("evaluate: --data is a folder", "evaluate", "--model", SHIPPED, "--data", "{d}/sub", files={"sub": None}, expect="not a regular file"),
    _case("evaluate: --data binary garbage", "evaluate", "--model", SHIPPED, "--data", "{d}/dev.tsv", files={"dev.tsv": BINARY}, expect="binary data"),
    _case("evaluate: --data without labels", "evaluate", "--model", SHIPPED, "--data", "{d}/dev.csv", files={"dev.csv": "question1,question2\na?,b?\n"}, expect="missing column 'is_duplicate' or 'label'"),
    _case("evaluate: --data labels yes/no", "evaluate", "--model", SHIPPED, "--data", "{d}/dev.csv", files={"dev.csv": "question1,question2,label\na?,b?,yes\nc?,d?,no\n"}, expect="2 bad label"),
    _case("evaluate: --data no extension", "evaluate", "--model", SHIPPED, "--data", "{d}/dev", files={"dev": PAIRS}, expect="cannot detect the format"),
    _case("evaluate: --plots is a file", "evaluate", "--model", SHIPPED, "--data", "{d}/pairs.csv", "--plots", "{d}/pairs.csv", files=P, expect="is a file, not a folder"),
    _case("evaluate: --plots under a file", "evaluate", "--model", SHIPPED, "--data", "{d}/pairs.csv", "--plots", "{d}/pairs.csv/plots", files=P, expect="is a file, not a folder"),
    _case("evaluate: --model missing", "evaluate", "--model", "{d}/nope", "--data", "{d}/pairs.csv", files=P, expect="no model directory"),
    # -- ensemble ---------------------------------------------------------------------------------
    _case("ensemble: --out is a file", "ensemble", SHIPPED, SHIPPED, "--dev", "{d}/pairs.csv", "--out", "{d}/pairs.csv", files=P, expect="is a file, not a folder"),
    _case("ensemble: --out holds other files", "ensemble", SHIPPED, SHIPPED, "--dev", "{d}/pairs.csv", "--out", "{d}", files=P, expect="holds other files"),
    _case("ensemble: --out is a member", "ensemble", "{d}/m1", SHIPPED, "--dev", "{d}/pairs.csv", "--out", "{d}/m1", "--overwrite", files=P, setup=_copy_shipped("m1"), expect="one of the member models"),
    _case("ensemble: --dev inside --out", "ensemble", SHIPPED, SHIPPED, "--dev", "{d}/e/pairs.csv", "--out", "{d}/e", "--overwrite", files={"e/pairs.csv": PAIRS, "e/config.json": "{}"}, expect="lies inside"),
    _case("ensemble: --step 0", "ensemble", SHIPPED, SHIPPED, "--dev", "{d}/pairs.csv", "--out", "{d}/e", "--step", "0", files=P, expect="--step", absent=("e",)),
    _case("ensemble: --weights not numbers", "ensemble", SHIPPED, SHIPPED, "--dev", "{d}/pairs.csv", "--out", "{d}/e", "--weights", "a,b", files=P, expect="--weights takes numbers"),
    _case("ensemble: --weights nan", "ensemble", SHIPPED, SHIPPED, "--dev", "{d}/pairs.csv", "--out", "{d}/e", "--weights", "nan,nan", files=P, expect="sum to 1", absent=("e",)),
    _case("ensemble: --dev binary garbage", "ensemble", SHIPPED, SHIPPED, "--dev", "{d}/pairs.csv", "--out", "{d}/e", files={"pairs.csv": BINARY}, expect="binary data", absent=("e",)),
    _case("ensemble: a member missing", "ensemble", SHIPPED, "{d}/nope", "--dev", "{d}/pairs.csv", "--out", "{d}/e", files=P, expect="no model directory"),
    # -- train (argument and file checks; no training runs) ------------------------------------------
    _case("train: --train missing", "train", "--train", "{d}/nope.tsv", "--dev", "{d}/pairs.csv", "--out", "{d}/m", files=P, expect="not found"),
    _case("train: --train binary garbage", "train", "--train", "{d}/t.tsv", "--dev", "{d}/pairs.csv", "--out", "{d}/m", files={**P, "t.tsv": BINARY}, expect="binary data"),
    _case("train: --dev empty", "train", "--train", "{d}/pairs.csv", "--dev", "{d}/dev.tsv", "--out", "{d}/m", files={**P, "dev.tsv": ""}, expect="empty file"),
    _case("train: --train is a folder", "train", "--train", "{d}/sub", "--dev", "{d}/pairs.csv", "--out", "{d}/m", files={**P, "sub": None}, expect="not a regular file"),
    _case("train: unknown recipe", "train", "--train", "{d}/pairs.csv", "--dev", "{d}/pairs.csv", "--out", "{d}/m", "--recipe", "fast", files=P, expect="fast"),
    _case("train: --epochs not a number", "train", "--train", "{d}/pairs.csv", "--dev", "{d}/pairs.csv", "--out", "{d}/m", "--epochs", "ten", files=P, expect="--epochs"),
    _case("train: --resume with nothing to resume", "train", "--resume", "{d}/nothing", expect="not a siamdup model: it does not exist"),
    _case("train: no --train", "train", "--out", "{d}/m", expect="needs --train"),
    # -- index build ------------------------------------------------------------------------------
    _case("index build: --out is an existing file", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/q.csv", files=Q, expect="is a file, not a folder"),
    _case("index build: --out under a file", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/q.csv/ix", files=Q, expect="is a file, not a folder"),
    _case("index build: --out holds other files", "index", "build", "--input", "{d}/q.csv", "--out", "{d}", files=Q, expect="holds other files"),
    _case("index build: --out holds an index", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", files={**Q, "ix/manifest.json": "{}"}, expect="already holds an index"),
    _case("index build: --input inside --out", "index", "build", "--input", "{d}/ix/entries.jsonl", "--out", "{d}/ix", "--overwrite", files={"ix/entries.jsonl": '{"text": "a?"}\n', "ix/manifest.json": "{}"}, expect="lies inside"),
    _case("index build: --out in a read-only folder", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ro/ix", files={**Q, "ro": None}, setup=_read_only("ro"), expect="permission denied", skip=_when_root),
    _case("index build: --out where writing fails", "index", "build", "--input", "{d}/q.csv", "--out", "/proc/siamdup-index", files=Q, skip=_without_proc, expect="cannot write"),
    _case("index build: binary garbage", "index", "build", "--input", "{d}/garbage.bin", "--out", "{d}/ix", files={"garbage.bin": BINARY}, expect="binary data", absent=("ix",)),
    _case("index build: not UTF-8", "index", "build", "--input", "{d}/q.txt", "--out", "{d}/ix", files={"q.txt": NOT_UTF8}, expect="not UTF-8", absent=("ix",)),
    _case("index build: empty file", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", files={"q.csv": ""}, expect="no usable question"),
    _case("index build: header only", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", files={"q.csv": "text\n"}, expect="no usable question"),
    _case("index build: no text column", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", files={"q.csv": "question\nHow?\n"}, expect="missing column 'text'"),
    _case("index build: tab-separated .csv", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", files={"q.csv": "qid\ttext\n1\tHow?\n"}, expect="separated by tabs"),
    _case("index build: one 10 MB line", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", files={"q.csv": HUGE_LINE}, expect="missing column 'text'"),
    _case("index build: one 10 MB question", "index", "build", "--input", "{d}/q.txt", "--out", "{d}/ix", files={"q.txt": HUGE_LINE}, expect="1 too long"),
    _case("index build: --id-column missing", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", "--id-column", "qid", files=Q, expect="missing column 'qid'"),
    _case("index build: --id-column on plain lines", "index", "build", "--input", "{d}/q.txt", "--out", "{d}/ix", "--id-column", "qid", files={"q.txt": "a?\n"}, expect="no columns"),
    _case("index build: unknown --format", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", "--format", "xlsx", files=Q, expect="unknown format"),
    _case("index build: unknown --kind", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", "--kind", "ivf", files=Q, expect="--kind must be"),
    _case("index build: JSONL all bad", "index", "build", "--input", "{d}/q.jsonl", "--out", "{d}/ix", files={"q.jsonl": "{not json\n[1, 2]\n"}, expect="2 bad json"),
    _case("index build: .gz that is not gzip", "index", "build", "--input", "{d}/q.csv.gz", "--out", "{d}/ix", files={"q.csv.gz": QUESTIONS}, expect="not a gzip file"),
    _case("index build: --input unreadable", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", files=Q, setup=_unreadable("q.csv"), expect="permission denied", skip=_when_root),
    _case("index build: --model is a file", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", "--model", "{d}/q.csv", files=Q, expect="no model directory"),
    _case("index build: repeated ids, BOM and CRLF", "index", "build", "--input", "{d}/q.csv", "--out", "{d}/ix", "--id-column", "qid", files={"q.csv": "\ufeffqid,text\r\n1,How?\r\n1,Why?\r\n2,What?\r\n"}, ok=True, expect="1 duplicate id"),
    # -- index add / remove / query / info ---------------------------------------------------------
    _case("index add: --index is a file", "index", "add", "--index", "{d}/q.csv", "--input", "{d}/q.csv", files=Q, expect="not a siamdup index"),
    _case("index add: --index missing", "index", "add", "--index", "{d}/nope", "--input", "{d}/q.csv", files=Q, expect="not a siamdup index"),
    _case("index add: --input binary garbage", "index", "add", "--index", "{d}/ix", "--input", "{d}/g.txt", files={"g.txt": BINARY}, setup=_build_index("ix"), expect="binary data"),
    _case("index add: --input is the index folder", "index", "add", "--index", "{d}/ix", "--input", "{d}/ix", setup=_build_index("ix"), expect="not a regular file"),
    _case("index add: damaged manifest", "index", "add", "--index", "{d}/ix", "--input", "{d}/q.csv", files={**Q, "ix/manifest.json": "{"}, expect="not valid JSON"),
    _case("index remove: unknown id", "index", "remove", "--index", "{d}/ix", "nope", setup=_build_index("ix"), expect="not in the index"),
    _case("index remove: --index is a file", "index", "remove", "--index", "{d}/q.csv", "1", files=Q, expect="not a siamdup index"),
    _case("index query: empty question", "index", "query", "--index", "{d}/ix", "  ", setup=_build_index("ix"), expect="a question is empty"),
    _case("index query: -k 0", "index", "query", "--index", "{d}/ix", "-k", "0", "a?", expect="-k"),
    _case("index query: --index missing", "index", "query", "--index", "{d}/nope", "a?", expect="not a siamdup index"),
    _case("index info: --index is a file", "index", "info", "--index", "{d}/q.csv", files=Q, expect="not a siamdup index"),
    # -- dedupe -----------------------------------------------------------------------------------
    _case("dedupe: --out is the --input file", "dedupe", "--input", "{d}/q.csv", "--out", "{d}/q.csv", files=Q, expect="same file"),
    _case("dedupe: --out is a hard link to --input", "dedupe", "--input", "{d}/q.csv", "--out", "{d}/out.csv", files=Q, setup=_hardlink("q.csv", "out.csv"), expect="same file"),
    _case("dedupe: --out in a missing folder", "dedupe", "--input", "{d}/q.csv", "--out", "/nonexistent-siamdup/x.csv", files=Q, expect="does not exist", absent=("/nonexistent-siamdup",)),
    _case("dedupe: --out where writing fails", "dedupe", "--input", "{d}/q.csv", "--out", "/proc/siamdup-groups.csv", files=Q, skip=_without_proc, expect="cannot write"),
    _case("dedupe: --out is a folder", "dedupe", "--input", "{d}/q.csv", "--out", "{d}", files=Q, expect="is a folder"),
    _case("dedupe: --out in a read-only folder", "dedupe", "--input", "{d}/q.csv", "--out", "{d}/ro/g.csv", files={**Q, "ro": None}, setup=_read_only("ro"), expect="permission denied", skip=_when_root),
    _case("dedupe: --threshold nan", "dedupe", "--input", "{d}/q.csv", "--out", "{d}/g.csv", "--threshold", "nan", files=Q, expect="between -1 and 1"),
    _case("dedupe: -k -1", "dedupe", "--input", "{d}/q.csv", "--out", "{d}/g.csv", "-k", "-1", files=Q, expect="-k"),
    _case("dedupe: --input binary garbage", "dedupe", "--input", "{d}/q.csv", "--out", "{d}/g.csv", files={"q.csv": BINARY}, expect="binary data", absent=("g.csv",)),
    _case("dedupe: --input missing", "dedupe", "--input", "{d}/nope.csv", "--out", "{d}/g.csv", expect="file not found"),
    # -- info -------------------------------------------------------------------------------------
    _case("info: --model is a file", "info", "--model", "{d}/q.csv", files=Q, expect="no model directory"),
    _case("info: --model not a model", "info", "--model", "{d}", files=Q, expect="not a siamdup model"),
    # -- serve (every case is refused before the server starts) --------------------------------------
    _case("serve: --index is a questions file", "serve", "--index", "{d}/questions.csv", files={"questions.csv": QUESTIONS}, expect="is a file, not a folder"),
    _case("serve: --index holds other files", "serve", "--index", "{d}", files=Q, expect="holds other files"),
    _case("serve: --index under a file", "serve", "--index", "{d}/q.csv/ix", files=Q, expect="is a file, not a folder"),
    _case("serve: --index manifest of []", "serve", "--index", "{d}/ix", files={"ix/manifest.json": "[]"}, expect="manifest.json"),
    _case("serve: --port out of range", "serve", "--port", "70000", expect="--port"),
    _case("serve: --model is a file", "serve", "--model", "{d}/q.csv", files=Q, expect="no model directory"),
]
# fmt: on

# Run as real processes too: the console script's own exit path, not only the in-process runner.
SUBPROCESS_CASES = (
    "serve: --index is a questions file",
    "index build: --out is an existing file",
    "index build: binary garbage",
    "predict: --out is the --pairs file",
)


def make_files(case: Case, folder: Path) -> None:
    for name, content in case.files.items():
        path = folder / name
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    if case.setup is not None:
        case.setup(folder)


def invoke(args: list[str]) -> tuple[int, str, bool]:
    """(exit code, output, traceback?) of the CLI run in this process; a server start counts as a failure."""
    from typer.testing import CliRunner

    from siamdup.cli import app

    def no_server(*_args, **_kwargs):
        raise AssertionError("the server started: the case was not refused")

    with mock.patch("uvicorn.run", no_server):
        result = CliRunner().invoke(app, args)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    output = result.output
    if crashed:
        output += f"\n{TRACEBACK}\n{type(result.exception).__name__}: {result.exception}"
    return result.exit_code, output, crashed or TRACEBACK in output


def invoke_process(args: list[str]) -> tuple[int, str, bool]:
    """(exit code, output, traceback?) of `python -m siamdup` in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "siamdup", *args], capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    return done.returncode, output, TRACEBACK in output


def run_case(case: Case, folder: Path, *, process: bool = False) -> Outcome:
    """Make the case's files in `folder` (empty), run it, and list what it did wrong in `problems`."""
    outcome = Outcome(case)
    outcome.skipped = case.skip() if case.skip is not None else ""
    if outcome.skipped:
        return outcome
    make_files(case, folder)
    before = _snapshot(case, folder)
    args = [a.replace("{d}", str(folder)) for a in case.args]
    try:
        outcome.exit_code, outcome.output, outcome.traceback = (invoke_process if process else invoke)(args)
    finally:
        _restore_permissions(folder)
    outcome.output = outcome.output.replace(str(folder), "{d}")  # shorter, and the same on every run
    outcome.problems = _problems(outcome, folder, before)
    return outcome


def _problems(outcome: Outcome, folder: Path, before: dict[str, bytes]) -> list[str]:
    case, problems = outcome.case, []
    if outcome.traceback:
        problems.append("traceback")
    if case.ok and outcome.exit_code != 0:
        problems.append(f"exit {outcome.exit_code}, expected success")
    if not case.ok and outcome.exit_code == 0:
        problems.append("exit 0, expected a refusal")
    if case.expect.lower() not in outcome.output.lower():
        problems.append(f"message lacks {case.expect!r}")
    if len(outcome.output) > MAX_OUTPUT_CHARS:
        problems.append(f"output of {len(outcome.output):,} characters")
    if not case.ok and _snapshot(case, folder) != before:
        problems.append("an input changed")
    problems += [f"{name} was created" for name in case.absent if (folder / name).exists()]
    return problems


def _snapshot(case: Case, folder: Path) -> dict[str, bytes]:
    return {
        name: (folder / name).read_bytes()
        for name, content in case.files.items()
        if content is not None and (folder / name).is_file() and os.access(folder / name, os.R_OK)
    }


def _restore_permissions(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(stat.S_IRWXU if path.is_dir() else stat.S_IRUSR | stat.S_IWUSR)
