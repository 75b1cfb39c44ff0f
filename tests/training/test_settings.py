from dataclasses import fields, replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from siamdup.cli import app, model_commands
from siamdup.recipes import RECIPES, recipe_config
from siamdup.training.loop import train
from siamdup.training.settings import (
    CHOICES,
    HELP,
    TrainConfig,
    check_config,
    default_text,
    flags,
    options_markdown,
    setting_types,
)

runner = CliRunner()
DOCS_PAGE = Path(__file__).parents[2] / "docs" / "reference" / "training-options.md"
TABLE_START, TABLE_END = "<!-- options: start -->", "<!-- options: end -->"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"pooling": "max"}, "unknown pooling"),
        ({"cluster_positives": 1.5}, "from 0 to 1"),
        ({"encoder": "gru"}, "unknown encoder 'gru'"),
        ({"encoder": "minilm"}, "embeddings to minilm"),
        ({"embedding_lr_ratio": -0.5}, "0 or more"),
        ({"pair_negatives": "mined"}, "unknown pair_negatives"),
        ({"loss": "hinge"}, "unknown loss 'hinge': use in-batch-softmax or mined-triplet"),
        ({"pair_negatives": "batch", "hard_negatives": False}, "enable hard_negatives"),
    ],
)
def test_bad_settings_fail_before_the_data_is_read(tmp_path: Path, setting: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train(tmp_path / "missing.tsv", tmp_path / "missing.tsv", tmp_path / "out", TrainConfig(**setting))


def test_every_setting_has_help_text() -> None:
    """A setting declared without `setting(default, help)` has no help for --help or the docs."""
    for f in fields(TrainConfig):
        assert f.metadata.get(HELP, "").strip().endswith("."), f"{f.name} has no help text"


def test_choices_hold_their_defaults_and_every_recipe_passes_the_checks() -> None:
    for f in fields(TrainConfig):
        assert not f.metadata[CHOICES] or f.default in f.metadata[CHOICES], f.name
    for name in RECIPES:
        check_config(recipe_config(name))


def test_switches_have_an_on_and_an_off_flag() -> None:
    assert flags("bf16") == ("--bf16", "--fp32")
    assert flags("bidirectional") == ("--bidirectional", "--unidirectional")
    assert flags("hard_negatives") == ("--hard-negatives", "--no-hard-negatives")
    assert flags("max_minutes") == ("--max-minutes",)


def other_value(name: str) -> tuple[list[str], object]:
    """Command-line arguments that set `name` to a value other than its default, and that value."""
    f = next(f for f in fields(TrainConfig) if f.name == name)
    kind, choices = setting_types()[name], f.metadata[CHOICES]
    if kind is bool:
        on, off = flags(name)
        return [off if f.default else on], not f.default
    if choices:
        value = next(c for c in choices if c != f.default)
    elif kind is int:
        value = f.default + 3
    else:
        value = f.default / 4 if f.default else 0.25
    return [flags(name)[0], str(value)], value


def test_every_setting_is_a_train_option_that_reaches_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each setting given on the command line overrides the recipe's value; the others keep it."""
    received = []
    monkeypatch.setattr(model_commands, "train", lambda *args, **kwargs: received.append(args[3]))
    base = ["train", "--train", "t.tsv", "--dev", "d.tsv", "--out", str(tmp_path / "m")]
    for f in fields(TrainConfig):
        args, value = other_value(f.name)
        runner.invoke(app, [*base, "--recipe", "minilm-finetune", *args])
        assert received.pop() == replace(recipe_config("minilm-finetune"), **{f.name: value}), f.name
    every = [a for f in fields(TrainConfig) for a in other_value(f.name)[0]]
    runner.invoke(app, [*base, *every])
    assert received.pop() == TrainConfig(**{f.name: other_value(f.name)[1] for f in fields(TrainConfig)})


def test_train_help_explains_every_setting() -> None:
    result = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    for f in fields(TrainConfig):
        for flag in flags(f.name):
            assert flag in result.output
        assert f.metadata[HELP][:40] in result.output, f.name
        assert f"[default: {default_text(f.name)}]" in result.output


def test_resume_refuses_any_setting_by_its_flag(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--resume", str(tmp_path), "--fp32", "--max-length", "9"])
    assert result.exit_code == 2
    assert "drop --max-length, --bf16" in " ".join(result.output.split())


def test_options_table_lists_every_setting_once() -> None:
    table = options_markdown().splitlines()
    assert len(table) == 2 + len(fields(TrainConfig))
    assert table[2].startswith("| `--embeddings` | `learned` \\| `minilm` | `learned` | learned (a word")
    assert "| `--bf16` / `--fp32` | switch | `--fp32` | Mixed precision" in options_markdown()
    assert "| `--max-minutes` | number | `27.0` |" in options_markdown()


def test_the_docs_option_table_is_current() -> None:
    page = DOCS_PAGE.read_text()
    start, end = page.index(TABLE_START) + len(TABLE_START), page.index(TABLE_END)
    assert page[start:end].strip("\n") == options_markdown().strip("\n"), (
        f"{DOCS_PAGE} is out of date: paste in the output of `python -m siamdup.training.settings`"
    )
