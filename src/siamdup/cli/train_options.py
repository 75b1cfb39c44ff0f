"""`siamdup train`'s setting options, generated from TrainConfig's fields: a setting is declared once, in
siamdup.training.settings, with its help text, choices and flags."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import fields
from typing import Annotated, Any

import typer
from rich.markup import escape

from siamdup.training.settings import CHOICES, HELP, TrainConfig, default_text, flags, setting_types

SETTINGS = "settings"
KEYWORD = inspect.Parameter.KEYWORD_ONLY


def setting_parameters() -> list[inspect.Parameter]:
    """One keyword parameter per setting, None unless given (the recipe's value then stands)."""
    parameters = []
    for f in fields(TrainConfig):
        kind, names, choices = setting_types()[f.name], flags(f.name), f.metadata[CHOICES]
        # The option's own default is None (the recipe's value stands), so the default recipe's is in the help,
        # which is rich markup here: "siamdup[minilm]" must show as it is.
        option = typer.Option(
            "/".join(names),
            help=escape(f"{f.metadata[HELP]} [default: {default_text(f.name)}]"),
            metavar=f"[{'|'.join(choices)}]" if choices else None,
            show_default=False,
        )
        value = kind if kind in (bool, int, str) else float  # max_minutes: float | None
        annotation = Annotated[value | None, option]  # type: ignore[valid-type]
        parameters.append(inspect.Parameter(f.name, KEYWORD, default=None, annotation=annotation))
    return parameters


def with_setting_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give `command` one option per setting, in place of its `settings` parameter, which receives the
    settings given on the command line as a dict (name -> value)."""
    signature = inspect.signature(command, eval_str=True)
    generated = setting_parameters()
    names = [p.name for p in generated]
    clash = set(names) & set(signature.parameters)
    assert not clash, f"options named like a setting: {clash}"
    parameters = []
    for p in signature.parameters.values():
        parameters.extend(generated if p.name == SETTINGS else [p.replace(kind=KEYWORD)])

    @functools.wraps(command)
    def with_settings(**kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in names}
        return command(**kwargs, settings={k: v for k, v in given.items() if v is not None})

    with_settings.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    with_settings.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_settings
