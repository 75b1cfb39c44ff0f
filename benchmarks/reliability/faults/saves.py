"""Kills while saving: a process saving an index and a model in a loop (with a reader loading both the
whole time), and `siamdup train` killed then resumed."""

from __future__ import annotations

import json
import random
from pathlib import Path

from benchmarks.reliability.faults.materials import missing_ids, write_pairs
from benchmarks.reliability.faults.processes import (
    TRACEBACK,
    Tally,
    check_clean_refusal,
    in_process_cli,
    kill_at_random_point,
    run,
    siamdup_command,
    start,
    wait_until,
    worker_command,
)

MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json", "metrics.json")
TRAIN_EPOCHS = 3
TRAIN_WINDOW = 15.0  # seconds: past a whole run on a busy machine, so some kills fall after the end
TRAIN_ARGS = ("--epochs", TRAIN_EPOCHS, "--d-model", 32, "--batch-size", 16, "--lr", 0.01, "--seed", 3)


def _lines(output: str, prefix: str) -> list[str]:
    return [line[len(prefix) :].strip() for line in output.splitlines() if line.startswith(prefix)]


def save_loop_kills(workdir: Path, runs: int, seed: int = 0) -> Tally:
    """Each run: a writer saves an index and a model in a loop while a reader loads both; the writer is
    killed at a random point. Every load must succeed, the writer must not die of the reader, and after
    the kill both directories hold what was acknowledged (the save in flight may or may not be there)."""
    tally, rng = Tally("save loop + readers"), random.Random(seed)
    acknowledged: list[str] = []
    last_threshold: str | None = None
    for n in range(runs):
        said, reads = _save_run(tally, workdir, n, rng)
        if TRACEBACK in said:
            tally.tracebacks += 1
            tally.problem(f"run {n}: the writer died before it was killed:\n{said[-1200:]}")
        errors = [line for line in reads.splitlines() if line.startswith(("error", "Traceback"))]
        if errors:
            tally.problem(f"run {n}: {len(errors)} load(s) failed during saves, e.g. {errors[0]}")
        saved = _lines(said, "saved index ")
        acknowledged += saved
        tally.acknowledged += len(saved) + len(_lines(said, "saved model "))
        _check_saved(tally, n, workdir, acknowledged, last_threshold, said)
        last_threshold = (_lines(said, "saved model ") or [last_threshold])[-1]
    return tally


def _save_run(tally: Tally, workdir: Path, n: int, rng: random.Random) -> tuple[str, str]:
    """One writer killed at a random point, one reader beside it; what each said."""
    index_dir, model_dir = workdir / "saved-index", workdir / "saved-model"
    writer = start(worker_command("save-loop", index_dir, model_dir, f"r{n}"), workdir / f"writer{n}.log")
    reader = None
    try:
        if not wait_until(lambda: (model_dir / "config.json").exists() or writer.ended(), 120):
            tally.problem(f"run {n}: the writer saved nothing in 120 s")
            return writer.output(), ""
        reader = start(worker_command("read-loop", index_dir, model_dir), workdir / f"reader{n}.log")
        wait_until(lambda: reader.output().count("\n") >= 2 or reader.ended(), 60)
        tally.kill_runs += kill_at_random_point(writer, index_dir, rng, window=3.0)
    finally:
        writer.kill()
        if reader is not None:
            reader.kill()
    return writer.output(), reader.output()


def _check_saved(
    tally: Tally, n: int, workdir: Path, acknowledged: list[str], last: str | None, said: str
) -> None:
    from siamdup import Siamese

    index_dir, model_dir = workdir / "saved-index", workdir / "saved-model"
    try:
        lost = missing_ids(index_dir, acknowledged)
        threshold = repr(Siamese.load(model_dir).threshold)
    except Exception as e:  # a killed save must leave loadable directories
        tally.problem(f"run {n}: the saved directories do not load after the kill: {type(e).__name__}: {e}")
        return
    tally.mark_lost(lost)
    if lost:
        tally.problem(f"run {n}: {len(lost)} acknowledged save(s) lost, e.g. {lost[:3]}")
    saved = _lines(said, "saved model ")
    allowed = {saved[-1] if saved else last, *_lines(said, "saving model ")[-1:]}
    if threshold not in allowed:
        tally.mark_lost([f"the model save of run {n}"])
        tally.problem(
            f"run {n}: the model holds τ={threshold}, not the last saved or the one in flight {allowed}"
        )


def training_kills(workdir: Path, runs: int, seed: int = 0) -> Tally:
    """Each run: `siamdup train` killed at a random point; the output then loads or is refused by name,
    and `--resume` (or a fresh start when no checkpoint was written) completes every epoch."""
    tally, rng = Tally("training"), random.Random(seed)
    train, dev = write_pairs(workdir / "train.tsv", 0), write_pairs(workdir / "dev.tsv", 1)
    for n in range(runs):
        out = workdir / f"model{n}"
        child = start(
            siamdup_command("train", "--train", train, "--dev", dev, "--out", out, *TRAIN_ARGS),
            workdir / f"train{n}.log",
        )
        try:
            tally.kill_runs += kill_at_random_point(child, out, rng, window=TRAIN_WINDOW)
        finally:
            child.kill()
        if (out / "config.json").exists():
            code, _, said = in_process_cli(["info", "--model", str(out)])
            check_clean_refusal(tally, f"run {n}: info after the kill", code, said)
            if code != 0 and not any(name in said for name in MODEL_FILES):
                tally.problem(
                    f"run {n}: the killed run's model is refused without naming a file: {said[-400:]}"
                )
        if (out / "checkpoint" / "trainer_state.json").exists():
            command = siamdup_command("train", "--resume", out)
        else:
            command = siamdup_command(
                "train", "--train", train, "--dev", dev, "--out", out, *TRAIN_ARGS, "--overwrite"
            )
        code, said = run(command, workdir / f"resume{n}.log")
        if code != 0:
            check_clean_refusal(tally, f"run {n}: resuming", code, said)
            tally.problem(f"run {n}: resuming failed (exit {code}): {said[-800:]}")
            continue
        _check_trained(tally, n, out)
    return tally


def _check_trained(tally: Tally, n: int, out: Path) -> None:
    code, _, said = in_process_cli(["info", "--model", str(out)])
    if code != 0:
        check_clean_refusal(tally, f"run {n}: info after resuming", code, said)
        tally.problem(f"run {n}: the resumed model does not load: {said[-800:]}")
        return
    epochs = [record["epoch"] for record in json.loads((out / "metrics.json").read_text())["history"]]
    if epochs != list(range(1, TRAIN_EPOCHS + 1)):
        tally.problem(f"run {n}: the resumed run's history holds epochs {epochs}, not 1..{TRAIN_EPOCHS}")
