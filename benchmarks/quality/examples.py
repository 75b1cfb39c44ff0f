"""The example pairs every model is shown on: in the model card and after the ensemble's figures."""

from __future__ import annotations

EXAMPLES = [
    ("How do I learn Python?", "What is the best way to learn Python?"),
    ("How can I lose weight fast?", "How do I lose weight quickly?"),
    ("How old are you?", "What is your age?"),
    ("Where are you from?", "Where are you going?"),
    ("What is the capital of France?", "How do I bake bread at home?"),
]
