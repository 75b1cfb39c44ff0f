"""`siamdup images`: train, evaluate and use the image modality (Omniglot characters, drawings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from siamdup.cli.common import app, err, fail, out
from siamdup.cli.locking import writes_to
from siamdup.cli.paths import check_output_folder
from siamdup.image.model import ImageModel, ImageModelLoadError, default_image_model_path
from siamdup.image.omniglot import OmniglotDataError, load_runs
from siamdup.image.one_shot import accuracy_from_scores, run_scores
from siamdup.image.reading import ImageReadError
from siamdup.image.settings import ImageTrainConfig
from siamdup.image.training import CHECKPOINT, train_images
from siamdup.image.views import VIEW_SETS

images_app = typer.Typer(
    help="Images: train a small CNN on Omniglot's background characters, measure its 20-way one-shot "
    "accuracy on the 20 standard runs, and compare two drawings.",
    no_args_is_help=True,
)
app.add_typer(images_app, name="images")

DataOption = Annotated[
    Path,
    typer.Option("--data", help="The Omniglot folder (images_background_small1/2.zip, all_runs.zip)."),
]
ImageModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Image model directory; default: the one shipped with siamdup."),
]


def load_image_model(path: Path | None) -> ImageModel:
    try:
        return ImageModel.load(path if path is not None else default_image_model_path())
    except ImageModelLoadError as e:
        raise fail(str(e)) from None


@images_app.command("train")
@writes_to("out_dir", "--out", "model", create=True)
def train_command(
    data: DataOption,
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write (best epoch).")],
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training pairs.")] = 40,
    max_minutes: Annotated[
        float | None, typer.Option("--max-minutes", min=0.01, help="Stop training after this many minutes.")
    ] = None,
    classes_per_batch: Annotated[
        int, typer.Option(min=2, help="Pairs per batch, each of a different character.")
    ] = 64,
    size: Annotated[
        int, typer.Option(min=16, max=512, help="Pixels a side the drawings are resized to.")
    ] = 28,
    channels: Annotated[int, typer.Option(min=1, help="Filters of each of the CNN's conv blocks.")] = 64,
    loss: Annotated[
        str, typer.Option(help="softmax (in-batch) or triplet (mined, the reference).")
    ] = "softmax",
    augment: Annotated[bool, typer.Option(help="Random affine distortions (Koch et al. 2015).")] = True,
    rotations: Annotated[bool, typer.Option(help="Count each character turned by 90° as a new one.")] = True,
    validation_alphabets: Annotated[
        str, typer.Option(help="Background alphabets whose one-shot runs are scored after each epoch.")
    ] = "Balinese,Early_Aramaic",
    hold_out: Annotated[
        bool,
        typer.Option(
            help="Leave the validation alphabets out of training and keep the epoch best on them; with "
            "--no-hold-out train on every alphabet and keep the last epoch."
        ),
    ] = ImageTrainConfig.hold_out,
    views: Annotated[
        str,
        typer.Option(
            help=f"Test-time views the saved model averages: {', '.join(VIEW_SETS)} "
            "(each view is one more pass of the CNN)."
        ),
    ] = ImageTrainConfig.views,
    ways: Annotated[int, typer.Option(min=2, help="Characters per validation one-shot run.")] = 20,
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads for torch.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its last epoch.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace a model already in --out.")] = False,
) -> None:
    """Train the image encoder on the background characters, scoring 20-way runs of the validation
    alphabets after each epoch (with --hold-out: kept out of training, and the best epoch kept).

    Example: siamdup images train --data ../shared/data/omniglot --out models/omniglot --max-minutes 20 --threads 2
    """
    check_output_folder(out_dir, "--out", holds="model", marker="config.json", inputs=[("--data", data)])
    if resume and not (out_dir / CHECKPOINT).is_dir():
        raise fail(f"nothing to resume in {out_dir}: no {CHECKPOINT}/")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    config = ImageTrainConfig(
        size=size,
        channels=channels,
        ways=ways,
        classes_per_batch=classes_per_batch,
        epochs=epochs,
        loss=loss,
        augment=augment,
        rotations=rotations,
        validation_alphabets=[a.strip() for a in validation_alphabets.split(",") if a.strip()],
        hold_out=hold_out,
        views=views,
        max_minutes=max_minutes,
    )
    try:
        metrics = train_images(data, out_dir, config, resume=resume, overwrite=overwrite, console=err)
    except (OmniglotDataError, ImageReadError, FileExistsError, FileNotFoundError, ValueError) as e:
        raise fail(str(e)) from None
    best = metrics["validation"]
    out.print(
        f"validation 20-way accuracy {best['accuracy']:.4f} (epoch {metrics['best_epoch']}), "
        f"τ={best['threshold']:.3f}; model in {out_dir}"
    )


@images_app.command("evaluate")
def evaluate_command(
    data: DataOption,
    model: ImageModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The 20-way one-shot accuracy on the 20 standard Omniglot runs (all_runs.zip).

    Example: siamdup images evaluate --model models/omniglot --data ../shared/data/omniglot
    """
    image_model = load_image_model(model)
    try:
        runs = load_runs(data, image_model.size)
    except (OmniglotDataError, ImageReadError) as e:
        raise fail(str(e)) from None
    scores, answers = run_scores(runs, image_model.embed)
    per_run = {
        run.name: accuracy_from_scores(scores[i : i + 1], answers[i : i + 1]) for i, run in enumerate(runs)
    }
    accuracy = accuracy_from_scores(scores, answers)
    if as_json:
        print(json.dumps({"accuracy": accuracy, "trials": int(answers.size), "runs": per_run}))
        return
    worst = min(per_run, key=per_run.__getitem__)
    out.print(
        f"{len(runs)}-run {scores.shape[2]}-way one-shot accuracy {accuracy:.4f} over {answers.size} trials "
        f"(weakest {worst}: {per_run[worst]:.2f})"
    )


@images_app.command("compare")
def compare_command(
    first: Annotated[Path, typer.Argument(help="A PNG or JPEG drawing.")],
    second: Annotated[Path, typer.Argument(help="Another PNG or JPEG drawing.")],
    model: ImageModelOption = None,
) -> None:
    """The cosine similarity of two drawings, and whether they show the same character (above τ).

    Example: siamdup images compare a.png b.png --model models/omniglot
    """
    image_model = load_image_model(model)
    try:
        score, same = image_model.compare(first, second)
    except ImageReadError as e:
        raise fail(str(e)) from None
    verdict = "same" if same else "different"
    out.print(f"similarity {score:.4f} ({verdict} at τ={image_model.threshold:.3f})")
