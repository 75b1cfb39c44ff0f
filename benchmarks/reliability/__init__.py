"""Reliability benchmarks: fault injection and malformed input, with their reports."""
