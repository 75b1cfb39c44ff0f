"""Accuracy and retrieval quality on QQP dev: recipes, ablations, ensembles, τ hold-out, PTB escapes."""
