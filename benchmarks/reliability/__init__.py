"""Reliability reports: how siamdup behaves on bad input."""
