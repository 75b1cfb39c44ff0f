"""Plots computed live from models on the dev pairs: ROC curves, similarity histograms, recall@k curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from benchmarks.plots.style import new_axes, save
from siamdup import Siamese
from siamdup.data.readers import Pair
from siamdup.evaluate import RetrievalEvaluator

KS = tuple(range(1, 21))


@dataclass
class Scored:
    """One model's figures on the dev pairs: its name, τ, pair similarities and retrieval ranks."""

    name: str
    threshold: float
    similarities: np.ndarray
    ranks: np.ndarray


def retrieval_ranks(evaluator: RetrievalEvaluator, vectors: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """The answer's rank for each query (1 = found first; ties count against it), as RetrievalEvaluator counts."""
    ranks = np.empty(len(evaluator.queries), dtype=np.int64)
    for start in range(0, len(ranks), chunk):
        queries = evaluator.queries[start : start + chunk]
        rows = np.arange(len(queries))
        scores = (vectors[queries] @ vectors.T).astype(np.float64)
        scores[rows, queries] = -np.inf  # a question is not its own duplicate
        answer = scores[rows, evaluator.answers[start : start + chunk]]
        ranks[start : start + chunk] = (scores >= answer[:, None]).sum(axis=1)
    return ranks


def score(name: str, model: Siamese, pairs: Sequence[Pair], threshold: float) -> Scored:
    """Encode every distinct dev question once; pair similarities and retrieval ranks come from those vectors."""
    evaluator = RetrievalEvaluator(pairs, name="dev")
    vectors = model.encode(evaluator.corpus)
    row = {text: i for i, text in enumerate(evaluator.corpus)}
    first = vectors[[row[p.question1] for p in pairs]]
    second = vectors[[row[p.question2] for p in pairs]]
    return Scored(name, threshold, np.sum(first * second, axis=1), retrieval_ranks(evaluator, vectors))


def plot_roc(labels: np.ndarray, models: Sequence[Scored], out):
    fig, ax = new_axes("ROC on Quora dev (10,000 pairs)", "false positive rate", "true positive rate")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    for m in models:
        fpr, tpr, _ = roc_curve(labels, m.similarities)
        ax.plot(fpr, tpr, linewidth=2, label=f"{m.name} (AUC {roc_auc_score(labels, m.similarities):.3f})")
        predicted = m.similarities > m.threshold
        op = (predicted[labels == 0].mean(), predicted[labels == 1].mean())
        ax.plot(*op, marker="o", markersize=7, color="black", linestyle="none")
        ax.annotate(f"τ = {m.threshold:.3f}", op, xytext=(8, -12), textcoords="offset points", fontsize=8.5)
    ax.legend(loc="lower right", fontsize=9)
    return save(fig, out)


def plot_histogram(labels: np.ndarray, model: Scored, out):
    fig, ax = new_axes(
        f"Similarity of dev pairs: {model.name}", "cosine similarity of the pair", "share of pairs (density)"
    )
    bins = np.linspace(float(model.similarities.min()), 1.0, 61)
    for label, name, colour in ((0, "non-duplicates", "#d1242f"), (1, "duplicates", "#1f6feb")):
        values = model.similarities[labels == label]
        ax.hist(values, bins=bins, density=True, alpha=0.55, color=colour, label=f"{name} ({values.size:,})")
    ax.axvline(model.threshold, color="black", linestyle="--", label=f"stored τ = {model.threshold:.3f}")
    ax.legend(loc="upper left", fontsize=9)
    return save(fig, out)


def recall_at_k(model: Scored) -> list[float]:
    return [float(np.mean(model.ranks <= k)) for k in KS]


def plot_recall(models: Sequence[Scored], out):
    fig, ax = new_axes(
        "Finding a question's duplicate among all 19,056 dev questions",
        "k (candidates returned)",
        "recall@k",
    )
    for m in models:
        ax.plot(KS, recall_at_k(m), marker="o", markersize=4, label=m.name)
    ax.set_xticks([1, 2, 5, 10, 15, 20])
    ax.legend(loc="lower right", fontsize=9)
    return save(fig, out)
