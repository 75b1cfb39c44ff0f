"""The sandbox the documented commands run in: small data where the docs name the real data, temp dirs.

Layout, so that a command's relative paths mean what they mean in a checkout next to `../shared`:

    ROOT/shared/data/qqp/train.tsv.gz, dev.tsv   a few hundred pairs sampled from the real files when they
                                                 are present, else synthetic pairs
    ROOT/shared/data/signatures, omniglot        links to the real folders when they are present (small
                                                 enough to use whole); pages naming them skip otherwise
    ROOT/work/                                   the working directory; `models/`, `runs/`, `index/` are
                                                 created there by the commands themselves
    ROOT/work/src/siamdup/default_model/         a copy of the shipped model (commands name it as a member)
    ROOT/work/models/qqp ...                     a copy of the shipped model for each model directory a
                                                 page uses without training it first (`models_used`)
    ROOT/work/questions.csv, new_questions.jsonl the input files a page may name without creating them
    ROOT/work/new.TXT, a.png, b.png              a pen trajectory and two drawings, likewise
    ROOT/bin/siamdup, ROOT/bin/curl              shims: siamdup through the fork server, `siamdup serve` on
                                                 the sandbox's free port; curl sent to that port instead of
                                                 the documented one
"""

from __future__ import annotations

import gzip
import os
import random
import shutil
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TRAIN_PAIRS = 600  # enough duplicate clusters for a few batches of every recipe
DEV_PAIRS = 150
DOCUMENTED_PORT = "8000"

SIAMDUP_SHIM = """#!/usr/bin/env bash
# siamdup through the fork server; `siamdup serve` listens on the sandbox's port, not the documented one.
args=(); skip=0
for a in "$@"; do
  if [ $skip = 1 ]; then skip=0; continue; fi
  if [ "$a" = "--port" ]; then skip=1; continue; fi
  args+=("$a")
done
if [ "$1" = "serve" ]; then args+=(--port "$SIAMDUP_DOCS_PORT"); fi
exec "{python}" "{client}" "{socket}" "${{args[@]}}"
"""

CURL_SHIM = """#!/usr/bin/env bash
# The docs address the service at a documented port (8000, ...); the sandbox's listens on its own free port.
args=()
for a in "$@"; do
  args+=("$(printf '%s' "$a" | sed -E "s#(localhost|127\\.0\\.0\\.1):[0-9]+#127.0.0.1:$SIAMDUP_DOCS_PORT#g")")
done
exec /usr/bin/curl "${{args[@]}}"
"""


def sample_lines(path: Path, n: int, header: bool) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    head, body = (lines[:1], lines[1:]) if header else ([], lines)
    return head + random.Random(0).sample(body, n)


def synthetic_lines(n: int, seed: int) -> list[str]:
    sys.path.insert(0, str(REPO / "tests"))
    from helpers import synthetic_pairs

    pairs = synthetic_pairs(seed, n_negatives=n // 3)
    return [f"{label}\t{q1}\t{q2}\t{i}\n" for i, (label, q1, q2) in enumerate(pairs)]


def write_data(qqp: Path, real: Path | None) -> None:
    qqp.mkdir(parents=True)
    if real is not None and (real / "train.tsv.gz").is_file() and (real / "dev.tsv").is_file():
        train = sample_lines(real / "train.tsv.gz", TRAIN_PAIRS, header=True)
        dev = sample_lines(real / "dev.tsv", DEV_PAIRS, header=False)
    else:
        train, dev = synthetic_lines(TRAIN_PAIRS, 0), synthetic_lines(DEV_PAIRS, 1)
    with gzip.open(qqp / "train.tsv.gz", "wt", encoding="utf-8") as handle:
        handle.writelines(train)
    (qqp / "dev.tsv").write_text("".join(dev), encoding="utf-8")


SHARED_DATA = REPO.parent / "shared" / "data"
LINKED_DATA = ("signatures", "omniglot")


def missing_linked_data(text: str) -> list[str]:
    """The linked data folders a command names that are absent on this machine."""
    return [name for name in LINKED_DATA if f"data/{name}" in text and not (SHARED_DATA / name).is_dir()]


def link_data(data: Path) -> None:
    for name in LINKED_DATA:
        if (SHARED_DATA / name).is_dir():
            (data / name).symlink_to((SHARED_DATA / name).resolve(), target_is_directory=True)


def write_drawings(work: Path) -> None:
    """The files the README's command table names: a pen trajectory (SVC2004 format) and two drawings."""
    import math

    from PIL import Image, ImageDraw

    points = [
        (3000 + 20 * i, 5000 + int(400 * math.sin(i / 6)), 1000 + 10 * i, int(0 < i < 119), 1500, 700, 400)
        for i in range(120)
    ]
    lines = [str(len(points))] + [" ".join(str(v) for v in point) for point in points]
    (work / "new.TXT").write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
    for name, shape in (("a.png", "line"), ("b.png", "ellipse")):
        image = Image.new("1", (105, 105), 1)
        draw = ImageDraw.Draw(image)
        if shape == "line":
            draw.line((20, 20, 85, 85), fill=0, width=4)
        else:
            draw.ellipse((25, 25, 80, 80), outline=0, width=4)
        image.save(work / name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make(
    root: Path, real_data: Path | None, server_socket: Path, models_used: list[str] = ()
) -> dict[str, str]:
    """Build the sandbox under `root`; returns the environment the commands run with."""
    write_data(root / "shared" / "data" / "qqp", real_data)
    link_data(root / "shared" / "data")
    work = root / "work"
    shipped = REPO / "src" / "siamdup" / "default_model"
    for folder in ["src/siamdup/default_model", *models_used]:
        shutil.copytree(shipped, work / folder)
    (work / "questions.csv").write_text(
        "qid,text\n1,What is the best way to learn Python?\n2,How do I learn Python?\n3,How do I cook rice?\n",
        encoding="utf-8",
    )
    (work / "new_questions.jsonl").write_text(
        '{"id": "n1", "text": "What is the fastest way to learn Python?"}\n'
        '{"id": "n2", "text": "How do I make green tea?"}\n',
        encoding="utf-8",
    )
    write_drawings(work)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    client = Path(__file__).with_name("forkserver.py")
    shims = {
        "siamdup": SIAMDUP_SHIM.format(python=sys.executable, client=client, socket=server_socket),
        "curl": CURL_SHIM.format(documented=DOCUMENTED_PORT),
    }
    for name, text in shims.items():
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}:{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{REPO / 'src'}:{REPO}"
    env["SIAMDUP_DOCS_PORT"] = str(free_port())
    env["NO_COLOR"] = "1"
    return env
