"""The three robustness checks, run for several models side by side: retrieval over dev questions, the
contrast set (`siamdup.robustness.contrast`) and the out-of-domain proxy (`siamdup.robustness.proxy`).

Each check returns one row (a flat dict) per model, or per model and kind; every decision is taken at
the model's own τ (`Siamese.threshold`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from siamdup.data.readers import Pair
from siamdup.evaluate import RetrievalEvaluator
from siamdup.model.siamese import Siamese
from siamdup.robustness.contrast import ContrastPair
from siamdup.robustness.proxy import KINDS, ProxyPair

Models = Mapping[str, Siamese]


def retrieval_rows(models: Models, dev: Sequence[Pair]) -> list[dict]:
    """Recall@1, Recall@10 and MRR@10 of each model over the dev questions (`RetrievalEvaluator`)."""
    evaluator = RetrievalEvaluator(dev, name="dev")
    rows = []
    for name, model in models.items():
        result = evaluator(model)
        rows.append(
            {
                "model": name,
                "threshold": model.threshold,
                **{k: result[k] for k in ("recall@1", "recall@10", "mrr@10", "n_queries", "n_corpus")},
            }
        )
    return rows


def _by_kind(
    models: Models, kinds: Sequence[str], a: list[str], b: list[str], labels: np.ndarray
) -> list[dict]:
    """Per model and kind: pairs, accuracy at τ (share decided as labelled) and mean cosine."""
    rows = []
    kind_array = np.array(kinds)
    for name, model in models.items():
        scores = model.similarity(a, b)
        correct = (scores > model.threshold) == (labels == 1)
        for kind in dict.fromkeys(kinds):
            rows_of_kind = kind_array == kind
            rows.append(
                {
                    "model": name,
                    "kind": kind,
                    "label": int(labels[rows_of_kind][0]),
                    "pairs": int(rows_of_kind.sum()),
                    "accuracy": float(correct[rows_of_kind].mean()),
                    "mean_similarity": float(scores[rows_of_kind].mean()),
                }
            )
    return rows


def contrast_rows(models: Models, pairs: Sequence[ContrastPair]) -> list[dict]:
    """Per model and kind of edit: accuracy at τ and mean cosine of the contrast pairs."""
    if not pairs:
        raise ValueError("the contrast set is empty: no question matched any rule")
    labels = np.array([p.label for p in pairs])
    return _by_kind(
        models, [p.kind for p in pairs], [p.original for p in pairs], [p.changed for p in pairs], labels
    )


def proxy_rows(models: Models, pairs: Sequence[ProxyPair]) -> list[dict]:
    """Per model: ROC-AUC of the edited copies against all other sentences and against each kind of other
    sentence alone, then accuracy at τ and mean cosine per kind."""
    labels = np.array([p.label for p in pairs])
    kinds = np.array([p.kind for p in pairs])
    if len(set(labels.tolist())) < 2:
        raise ValueError("the proxy needs pairs of both labels")
    rows = []
    for name, model in models.items():
        scores = model.similarity([p.anchor for p in pairs], [p.other for p in pairs])
        decided = scores > model.threshold
        row: dict = {
            "model": name,
            "threshold": model.threshold,
            "pairs": len(pairs),
            "roc_auc": float(roc_auc_score(labels, scores)),
        }
        present = [kind for kind in KINDS if kind in set(kinds.tolist())]
        for kind in (k for k in present if k != "edited"):
            against = (labels == 1) | (kinds == kind)
            row[f"roc_auc_{kind}"] = float(roc_auc_score(labels[against], scores[against]))
        for kind in present:
            of_kind = kinds == kind
            row[f"accuracy_{kind}"] = float(np.mean(decided[of_kind] == (labels[of_kind] == 1)))
            row[f"mean_similarity_{kind}"] = float(scores[of_kind].mean())
        rows.append(row)
    return rows
