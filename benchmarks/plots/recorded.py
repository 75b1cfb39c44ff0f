"""Plots of recorded figures: the CSV files under docs/results/data/ that the results pages' tables show."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from benchmarks.plots.style import COLOURS, new_axes, save


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def plot_accuracy_speed(models_csv: Path, out: Path) -> Path:
    """Dev accuracy against encoding speed (questions/s from text, log scale), one point per model."""
    fig, ax = new_axes(
        "Accuracy against encoding speed (Quora dev, 2 CPU cores)",
        "questions encoded per second, from text (log scale)",
        "dev accuracy at the stored τ",
    )
    for row in read_rows(models_csv):
        x, y = float(row["encode_qps"]), float(row["dev_accuracy"])
        marker = "o" if row["kind"] == "siamdup" else "s"
        ax.scatter(x, y, s=70, color=COLOURS[row["kind"]], marker=marker, zorder=3)
        label = row["model"].split(":")[0].split(" (")[0]
        ax.annotate(label, (x, y), xytext=(7, -3), textcoords="offset points", fontsize=8.5)
    ax.set_xscale("log")
    ax.set_xlim(800, 60000)
    ax.scatter([], [], color=COLOURS["siamdup"], marker="o", label="siamdup models")
    ax.scatter([], [], color=COLOURS["peer"], marker="s", label="pretrained peer")
    ax.legend(loc="lower right", fontsize=9)
    return save(fig, out)


def plot_training_curves(curves_csv: Path, out: Path) -> Path:
    """Dev accuracy after each epoch against training minutes, one line per recipe."""
    fig, ax = new_axes(
        "Dev accuracy against training time, per recipe (2 CPU cores)",
        "training minutes",
        "dev accuracy",
    )
    lines: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in read_rows(curves_csv):
        lines[row["recipe"]].append((float(row["minutes"]), float(row["dev_accuracy"])))
    for recipe, points in lines.items():
        xs, ys = zip(*points, strict=True)
        if len(points) == 1:
            ax.scatter(xs, ys, marker="*", s=180, color="#8250df", label=recipe, zorder=3)
        else:
            ax.plot(xs, ys, marker="o", markersize=4, label=recipe)
    ax.legend(loc="lower right", fontsize=9)
    return save(fig, out)
