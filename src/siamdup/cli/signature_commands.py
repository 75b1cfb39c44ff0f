"""`siamdup signatures ...`: train and evaluate the online-signature verifier (enrol and verify are
registered on the same sub-app by their own module)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer
from rich.table import Table

from siamdup.cli.common import app, err, fail, out
from siamdup.cli.locking import writes_to
from siamdup.cli.paths import check_output_file
from siamdup.signatures.model import SignatureModel, SignatureModelLoadError
from siamdup.trajectory.points import TrajectoryFormatError
from siamdup.trajectory.svc2004 import SignatureRecord, load_svc2004

signatures_app = typer.Typer(
    help="Online handwritten signatures: train a verifier on SVC2004 writers, evaluate it on the SVC2004 "
    "protocol, enrol a writer's genuine signatures and verify a new one against them.",
    no_args_is_help=True,
)
app.add_typer(signatures_app, name="signatures")

# What a run saved before these settings existed trained with, so that it resumes as it began.
PRE_FUSION_SETTINGS = {"standardise": False, "fusion": False}

DataOption = Annotated[
    Path,
    typer.Option(
        "--data",
        help="SVC2004 Task 2: the folder holding svc2004_task2.tar.gz, the archive, or U*S*.TXT files.",
    ),
]


def parse_writers(spec: str, option: str) -> list[int]:
    """'1-20' or '1,3,5-9' -> sorted writer numbers; a clear error naming `option` otherwise."""
    writers: set[int] = set()
    try:
        for part in spec.split(","):
            low, _, high = part.strip().partition("-")
            first, last = int(low), int(high or low)
            if first < 1 or last < first:
                raise ValueError
            writers.update(range(first, last + 1))
    except ValueError:
        raise fail(f"{option} {spec!r}: give writer numbers like 1-20 or 1,3,5-9") from None
    return sorted(writers)


def read_records(data: Path, writers: list[int] | None = None) -> list[SignatureRecord]:
    try:
        return load_svc2004(data, set(writers) if writers else None)
    except (FileNotFoundError, TrajectoryFormatError) as e:
        raise fail(str(e)) from None


def load_signature_model(model: Path | None) -> SignatureModel:
    try:
        return SignatureModel.load(model)
    except SignatureModelLoadError as e:
        raise fail(str(e)) from None


@signatures_app.command("train")
@writes_to("out_dir", "--out", "model", create=True)
def train_command(
    data: DataOption,
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write (the best epoch).")],
    train_writers: Annotated[str, typer.Option(help="Writers to train on, e.g. 1-20.")] = "1-20",
    dev_writers: Annotated[
        str, typer.Option(help="Writers to pick the best epoch, the scoring and τ on (never trained on).")
    ] = "21-30",
    epochs: Annotated[int, typer.Option(min=1, help="Epochs to run at most.")] = 40,
    max_minutes: Annotated[
        float | None, typer.Option(min=0.1, help="Stop after the epoch that passes this many minutes.")
    ] = None,
    steps_per_epoch: Annotated[int, typer.Option(min=1, help="Batches per epoch.")] = 30,
    d_model: Annotated[
        int, typer.Option(min=2, help="Width of the encoder's steps, LSTM state and vectors (even).")
    ] = 64,
    length: Annotated[int, typer.Option(min=4, help="Time steps each signature is resampled to.")] = 128,
    seed: Annotated[int, typer.Option(help="Seed of weights, batches and the dev protocol's draws.")] = 0,
    resume: Annotated[
        bool, typer.Option(help="Continue the run saved in --out from its last epoch, with its settings.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace a model already in --out (else refused).")] = False,
    fusion: Annotated[
        bool,
        typer.Option(
            help="Make the decision rule the learned score fused with DTW (weight and τ tuned on the dev "
            "writers); --no-fusion: the learned score alone."
        ),
    ] = True,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads for PyTorch.")] = 2,
) -> None:
    """Train a signature encoder on SVC2004 writers; keep the epoch with the lowest dev skilled-forgery EER.

    Example: siamdup signatures train --data ../shared/data/signatures/svc2004 --out models/signatures
    """
    from siamdup.signatures.training import CHECKPOINT, SignatureTrainSettings, train_signatures

    torch.set_num_threads(threads)
    settings = SignatureTrainSettings(
        epochs=epochs,
        max_minutes=max_minutes,
        seed=seed,
        steps_per_epoch=steps_per_epoch,
        d_model=d_model,
        length=length,
        fusion=fusion,
    )
    train_list, dev_list = (
        parse_writers(train_writers, "--train-writers"),
        parse_writers(dev_writers, "--dev-writers"),
    )
    if resume:
        state_file = out_dir / CHECKPOINT / "trainer_state.json"
        if not state_file.exists():
            raise fail(f"nothing to resume in {out_dir}: no {CHECKPOINT}/trainer_state.json")
        saved = json.loads(state_file.read_text())
        settings = SignatureTrainSettings(
            **{**PRE_FUSION_SETTINGS, **saved["settings"], "epochs": epochs, "max_minutes": max_minutes}
        )
        train_list, dev_list = saved["train_writers"], saved["dev_writers"]
    elif (out_dir / "config.json").exists() and not overwrite:
        raise fail(f"--out {out_dir} already holds a model; pass --overwrite to replace it or --resume")
    overlap = sorted(set(train_list) & set(dev_list))
    if overlap:
        raise fail(
            f"writers {overlap} are in both --train-writers and --dev-writers; a writer is in one only"
        )
    records = read_records(data, train_list + dev_list)
    found = {r.writer for r in records}
    absent = sorted(set(train_list + dev_list) - found)
    if absent:
        raise fail(f"--data {data} has no signatures of writer(s) {absent}")
    try:
        metrics = train_signatures(
            records, train_list, dev_list, out_dir, settings, resume=resume, console=err
        )
    except (ValueError, FileNotFoundError) as e:
        raise fail(str(e)) from None
    best = metrics["best"]
    out.print(
        f"best epoch {best['epoch']}: dev skilled EER {best['skilled_eer']:.2%}, random EER "
        f"{best['random_eer']:.2%}; model in {out_dir}"
    )
    if "fused" in best:
        fused = best["fused"]
        out.print(
            f"decision rule: fused with DTW (weight {fused['weight']:.1f} on the learned score), dev skilled "
            f"EER {fused['skilled_eer']:.2%}, random EER {fused['random_eer']:.2%}"
        )


@signatures_app.command("evaluate")
def evaluate_command(
    data: DataOption,
    model_dir: Annotated[
        Path | None,
        typer.Option("--model", "-m", help="Signature model directory; default: the shipped one."),
    ] = None,
    writers: Annotated[
        str | None, typer.Option(help="Writers to evaluate on; default: the model's dev writers, else all.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a DET plot (PNG, SVG or PDF) to this file.")
    ] = None,
    dtw: Annotated[bool, typer.Option(help="Also score the DTW baseline on the same trials.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the reference draws and random forgeries.")] = 0,
) -> None:
    """Score a model on the SVC2004 protocol: EER for skilled and for random forgeries.

    Per writer: 5 genuine references drawn from sessions 1-10, 10 draws; tested on sessions 11-20
    (genuine), 21-40 (skilled forgeries) and 20 genuine signatures of other evaluated writers.
    """
    from siamdup.signatures.benchmark import compare

    if plot is not None:
        check_output_file(plot, "--plot")
    model = load_signature_model(model_dir)
    chosen = parse_writers(writers, "--writers") if writers else model.metadata.get("dev_writers")
    records = read_records(data, chosen)
    evaluated = sorted({r.writer for r in records})
    if len(evaluated) < 2:
        raise fail(
            "the protocol needs at least two evaluated writers (random forgeries come from the others)"
        )
    try:
        results = compare(model, records, evaluated, seed=seed, dtw=dtw)
    except ValueError as e:
        raise fail(str(e)) from None
    table = Table(title=f"SVC2004 protocol on writers {_spec(evaluated)}")
    for column in ("verifier", "skilled EER", "random EER"):
        table.add_column(column)
    for name, result in results.items():
        table.add_row(name, f"{result.figures()['skilled_eer']:.2%}", f"{result.figures()['random_eer']:.2%}")
    out.print(table)
    rule = "fused" if model.fusion is not None and "fused" in results else "model"
    if model.fusion is None or rule == "fused":
        scores, tau = results[rule], model.threshold
        out.print(
            f"the model's decision rule ({rule}) at its τ = {tau:.4f}: "
            f"{np.mean(scores.genuine <= tau):.2%} of genuine signatures refused, "
            f"{np.mean(scores.skilled > tau):.2%} of skilled and {np.mean(scores.random > tau):.2%} of "
            "random forgeries accepted"
        )
    if plot is not None:
        from siamdup.signatures.plots import det_plot

        det_plot(results, plot)
        out.print(f"DET plot written to {plot}")


def _spec(writers: list[int]) -> str:
    return (
        ",".join(str(w) for w in writers)
        if len(writers) < 6
        else f"{writers[0]}..{writers[-1]} ({len(writers)})"
    )
