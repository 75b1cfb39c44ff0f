"""Plots for the docs' results pages, written as PNG into docs/results/img/."""
