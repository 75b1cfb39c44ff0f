"""Model commands: train, ensemble, evaluate, predict, info."""

from __future__ import annotations

import csv
import json
import os
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from siamdup.cli.common import ModelOption, RuntimeOption, app, check_threshold, err, fail, load_model, out
from siamdup.cli.locking import writes_to
from siamdup.cli.paths import check_output_file, check_output_folder, say_created, writing
from siamdup.cli.train_options import with_setting_options
from siamdup.cli.verify_options import VerifierOption, VerifyOption, load_verifier_or_fail
from siamdup.combine import combine
from siamdup.data.readers import DataError, read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.recipes import RECIPES, recipe_config
from siamdup.training.checkpoints import CHECKPOINT
from siamdup.training.distributed import RankFailure, launched_rank
from siamdup.training.loop import train
from siamdup.training.settings import flags
from siamdup.verify.evaluation import evaluate_verifier


@app.command("train")
@writes_to("out_dir", "--out", "model", create=True, when=lambda: launched_rank() == 0)
@writes_to("resume", "--resume", "model", when=lambda: launched_rank() == 0)
@with_setting_options
def train_command(
    train_path: Annotated[
        Path | None,
        typer.Option("--train", help="Labelled pairs to train on (Quora TSV/CSV, partition TSV, JSONL)."),
    ] = None,
    dev_path: Annotated[
        Path | None, typer.Option("--dev", help="Labelled pairs for per-epoch evaluation and tuning τ.")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Model directory to write (best epoch).")
    ] = None,
    recipe: Annotated[str, typer.Option(help=f"Preset settings: {', '.join(RECIPES)}.")] = "default",
    settings: dict[str, Any] | None = None,  # one option per setting (with_setting_options)
    resume: Annotated[
        Path | None,
        typer.Option(help="Continue the run whose --out was this directory, from its last epoch."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a model already in --out (else refused).")] = False,
    device: Annotated[
        str | None,
        typer.Option(
            help="cpu, cuda, cuda:1 ...; default: cuda when present (under torchrun: one per process)."
        ),
    ] = None,
    rank_timeout: Annotated[
        float,
        typer.Option(
            min=0.1,
            help="Under torchrun: minutes a process waits for the others (rank 0's dev evaluation included) "
            "before the run fails.",
        ),
    ] = 30.0,
) -> None:
    """Train a Siamese encoder on labelled question pairs; keep the best epoch by dev accuracy.

    Example: siamdup train --train train.tsv.gz --dev dev.tsv --out models/qqp

    On several processes: torchrun --nproc-per-node 2 -m siamdup train ... (each trains on --batch-size
    pairs of every step; in-batch negatives are gathered from all of them unless --local-negatives).

    Recipes: default (BiLSTM, core install only), minilm (BiLSTM on MiniLM's token embeddings: the shipped
    model), minilm-finetune (the whole MiniLM transformer fine-tuned: a bi-encoder), reference (the course),
    verifier (a cross-encoder that reads both questions together: the --verify of other commands).
    The defaults shown are the default recipe's; the options given override the recipe's values.
    """
    overrides = settings or {}
    if resume is not None:
        given = [flags(name)[0] for name in overrides]
        if given or recipe != "default":
            raise fail(
                f"--resume continues a run with its own saved settings; drop {', '.join(given) or '--recipe'}"
            )
        state_file = resume / CHECKPOINT / "trainer_state.json"
        if not state_file.exists():
            raise fail(f"nothing to resume in {resume}: no {CHECKPOINT}/trainer_state.json")
        paths = json.loads(state_file.read_text()).get("paths", {})
        train_path = train_path or Path(paths["train"])
        dev_path = dev_path or Path(paths["dev"])
        out_dir = out_dir or resume
    if train_path is None or dev_path is None or out_dir is None:
        raise fail("train needs --train, --dev and --out (or --resume DIR)")
    try:
        config = recipe_config(recipe)
    except KeyError as e:
        raise fail(str(e)) from None
    config = replace(config, **overrides)
    try:
        metrics = train(
            train_path,
            dev_path,
            out_dir,
            config,
            resume=resume is not None,
            overwrite=overwrite,
            device=device,
            console=err,
            rank_timeout=rank_timeout,
        )
    except (DataError, FileNotFoundError, FileExistsError, ValueError, ImportError, RankFailure) as e:
        raise fail(str(e)) from None
    if launched_rank() != 0:
        return  # rank 0 reports for the run
    dev = metrics["dev"]
    out.print(f"dev accuracy {dev['accuracy']:.4f} at τ={dev['threshold']:.3f}; model in {out_dir}")


@app.command("ensemble")
@writes_to("out_dir", "--out", "model", create=True)
def ensemble_command(
    models: Annotated[list[Path], typer.Argument(help="Two or more trained model directories.")],
    dev_path: Annotated[Path, typer.Option("--dev", help="Labelled pairs to tune the weights and τ on.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
    weights: Annotated[
        str | None,
        typer.Option(help="Member weights, comma-separated, summing to 1 (default: tuned on --dev)."),
    ] = None,
    step: Annotated[
        float, typer.Option(min=0.001, max=0.5, help="Grid step of the weights tried when tuning.")
    ] = 0.05,
    overwrite: Annotated[bool, typer.Option(help="Replace a model already in --out.")] = False,
) -> None:
    """Join trained models into one: its similarity is the weighted mean of theirs.

    Still one vector per question (the members' vectors side by side), so the index and the service take
    it like any model. The members must share a tokenizer (e.g. all trained with --embeddings minilm).

    Example: siamdup ensemble runs/lstm runs/minilm-finetune --dev dev.tsv --out models/ensemble
    """
    created = check_output_folder(
        out_dir, "--out", holds="model", marker="config.json", inputs=[("--dev", dev_path)]
    )
    if (out_dir / "config.json").exists() and not overwrite:
        raise fail(f"{out_dir} already holds a model: pass --overwrite or choose another --out")
    if any(_same_folder(out_dir, m) for m in models):
        raise fail(f"--out {out_dir} is one of the member models; write the ensemble to another folder")
    try:
        given = [float(w) for w in weights.split(",")] if weights is not None else None
    except ValueError:
        raise fail(f"--weights takes numbers separated by commas, got {weights!r}") from None
    if given is not None and len(given) != len(models):
        raise fail(f"--weights has {len(given)} values for {len(models)} models")
    members = [load_model(m) for m in models]
    try:
        pairs, read_report = read_pairs(dev_path)
        err.print(read_report.summary())
        model, report = combine(members, pairs, given, step)
    except (DataError, ValueError) as e:
        raise fail(str(e)) from None
    with writing(out_dir):
        model.save(out_dir, extra_files={"metrics.json": {"dev": report}})
    say_created(created)
    for member in report["members"]:
        out.print(f"member {member['model']}: dev accuracy {member['accuracy']:.4f} (its own best τ)")
    weights_text = ", ".join(f"{w:.2f}" for w in model.config()["encoder"]["weights"])
    out.print(
        f"ensemble (weights {weights_text}): dev accuracy {report['accuracy']:.4f} at τ={report['threshold']:.3f}, "
        f"ROC-AUC {report['roc_auc']:.4f}; model in {out_dir}"
    )


@app.command("evaluate")
def evaluate_command(
    data: Annotated[Path, typer.Option("--data", help="Labelled pairs to evaluate on.")],
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="Model directory; default: shipped model.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    plots: Annotated[
        Path | None, typer.Option(help="Write roc.png and similarity_histogram.png into this folder.")
    ] = None,
    verify: VerifyOption = False,
    verifier: VerifierOption = None,
) -> None:
    """Accuracy at the model's τ and at 0.7, precision, recall, F1, ROC-AUC, AP, confusion matrix.

    The best τ on this data is reported for information; the model's stored τ is what is evaluated.
    With --verify, the verifier's probability and threshold are evaluated instead, with its calibration
    error (ECE).
    Example: siamdup evaluate --model models/qqp --data dev.tsv --plots plots/
    """
    created = None
    if plots is not None:
        created = check_output_folder(plots, "--plots", holds="plots", marker=None)
    if verify:
        scorer = load_verifier_or_fail(verifier)
    else:
        siamese = load_model(model)
    try:
        pairs, report = read_pairs(data)
    except DataError as e:
        raise fail(str(e)) from None
    err.print(report.summary())
    with writing(plots) if plots is not None else nullcontext():
        evaluator = PairEvaluator(pairs, name=data.name)
        result = evaluate_verifier(evaluator, scorer, plots) if verify else evaluator(siamese, plots=plots)
    result["skipped"] = dict(report.skipped)
    say_created(created)
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"{data.name}: {result['n_pairs']:,} pairs ({result['n_duplicates']:,} duplicates)")
    table.add_column("metric")
    table.add_column(f"at {'verifier' if verify else 'model'} τ = {result['threshold']:.3f}", justify="right")
    table.add_column(f"at {result['at_default_threshold']['threshold']}", justify="right")
    for name in ("accuracy", "precision", "recall", "f1"):
        table.add_row(name, f"{result[name]:.4f}", f"{result['at_default_threshold'][name]:.4f}")
    out.print(table)
    auc, ap = result["roc_auc"], result["average_precision"]
    out.print(f"ROC-AUC {auc:.4f}   average precision {ap:.4f}" if auc is not None else "ROC-AUC undefined")
    if verify:
        out.print(f"verifier: expected calibration error {result['ece']:.4f} (15 bins)")
    (tn, fp), (fn, tp) = result["confusion_matrix"]
    out.print(f"confusion matrix at model τ: TN {tn:,}  FP {fp:,}  FN {fn:,}  TP {tp:,}")
    best = result["best_threshold_on_this_data"]
    out.print(
        f"best τ on this data (for information, not applied): accuracy {best['accuracy']['accuracy']:.4f} "
        f"at τ={best['accuracy']['threshold']:.3f}; F1 {best['f1']['f1']:.4f} at τ={best['f1']['threshold']:.3f}"
    )
    for path in result.get("plots", []):
        out.print(f"wrote {path}")


@app.command("predict")
def predict_command(
    questions: Annotated[
        list[str] | None, typer.Argument(help="Two questions to compare.", show_default=False)
    ] = None,
    model: ModelOption = None,
    runtime: RuntimeOption = "auto",
    pairs: Annotated[Path | None, typer.Option(help="Score every pair of this file instead.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="CSV to write with --pairs.")] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Decision threshold; default: the model's τ.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    verify: VerifyOption = False,
    verifier: VerifierOption = None,
) -> None:
    """Are two questions duplicates? Prints their cosine similarity and the decision (similarity > τ).

    With --verify the verifier also reads each pair and decides: its probability > its threshold.

    Example: siamdup predict "How old are you?" "What is your age?"

    Example: siamdup predict --model models/qqp --pairs pairs.csv --out scored.csv
    """
    check_threshold(threshold)
    if pairs is not None and out_file is not None:
        check_output_file(out_file, "--out", [("--pairs", pairs)])
    siamese = load_model(model)
    scorer = load_verifier_or_fail(verifier) if verify else None
    if threshold is not None:
        siamese.threshold = threshold
    if pairs is None:
        if not questions or len(questions) != 2:
            raise fail(
                'predict takes exactly two questions, e.g. siamdup predict "How old are you?" "What is your age?"'
            )
        if not all(q.strip() for q in questions):
            raise fail("a question is empty")
        scores, decisions = siamese.predict([questions[0]], [questions[1]])
        score, duplicate = float(scores[0]), bool(decisions[0])
        if scorer is not None:
            _print_verified(questions, score, siamese.threshold, scorer, as_json)
            return
        if as_json:
            print(json.dumps({"similarity": score, "duplicate": duplicate, "threshold": siamese.threshold}))
        else:
            verdict = "[green]duplicate[/]" if duplicate else "[yellow]not duplicate[/]"
            out.print(f"similarity {score:.4f} → {verdict} (τ = {siamese.threshold:.3f})")
        return
    if questions:
        raise fail("give either two questions or --pairs FILE, not both")
    if out_file is None:
        raise fail("--pairs needs --out FILE.csv")
    try:
        rows, report = read_pairs(pairs, require_label=False)
    except DataError as e:
        raise fail(str(e)) from None
    err.print(report.summary())
    q1s, q2s = [p.question1 for p in rows], [p.question2 for p in rows]
    scores, decisions = siamese.predict(q1s, q2s)
    verification = None
    if scorer is not None:
        verification, decisions = scorer.predict(q1s, q2s)
    with writing(out_file):
        _write_scores(out_file, rows, scores, decisions, verification)
    decided_by = f"verifier threshold {scorer.threshold:.3f}" if scorer else f"τ={siamese.threshold:.3f}"
    out.print(
        f"scored {len(rows):,} pairs ({int(decisions.sum()):,} duplicates at {decided_by}) → {out_file}"
    )


def _print_verified(questions: list[str], similarity: float, tau: float, scorer, as_json: bool) -> None:
    """Both scores of one pair; the verifier's decision."""
    probabilities, decisions = scorer.predict([questions[0]], [questions[1]])
    probability, duplicate = float(probabilities[0]), bool(decisions[0])
    if as_json:
        answer = {"similarity": similarity, "threshold": tau, "verification": probability}
        print(json.dumps({**answer, "verifier_threshold": scorer.threshold, "duplicate": duplicate}))
        return
    verdict = "[green]duplicate[/]" if duplicate else "[yellow]not duplicate[/]"
    out.print(
        f"similarity {similarity:.4f} (τ = {tau:.3f}); verifier P(duplicate) {probability:.4f} → {verdict} "
        f"(threshold {scorer.threshold:.3f})"
    )


def _write_scores(out_file: Path, rows: list, scores, decisions, verification=None) -> None:
    """Write beside and move into place: a failed write leaves any earlier file whole. With
    `verification`, a column of the verifier's probabilities, and `decisions` are the verifier's."""
    tmp = out_file.with_name(out_file.name + ".tmp")
    extra = ["verification"] if verification is not None else []
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["question1", "question2", "label", "similarity", *extra, "duplicate"])
            for n, (p, s, d) in enumerate(zip(rows, scores, decisions, strict=True)):
                verified = [f"{verification[n]:.6f}"] if verification is not None else []
                label = "" if p.label is None else p.label
                writer.writerow([p.question1, p.question2, label, f"{s:.6f}", *verified, int(d)])
        tmp.replace(out_file)
    finally:
        tmp.unlink(missing_ok=True)


def _same_folder(a: Path, b: Path) -> bool:
    return a.is_dir() and b.is_dir() and os.path.samefile(a, b)


@app.command("info")
def info_command(model: ModelOption = None) -> None:
    """Show a model's architecture, size, τ and training figures."""
    siamese = load_model(model)
    print(
        json.dumps(
            {**siamese.config(), "parameters": sum(p.numel() for p in siamese.encoder.parameters())}, indent=2
        )
    )
